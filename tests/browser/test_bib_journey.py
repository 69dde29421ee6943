"""A running event, as its people use it: the photographer ticks "running event" and drops
the race photos; a runner on a phone types their bib number and gets their photos.

The race photos are the shared face photos with bibs drawn under the runners' faces
(tests/bibs/helpers.py); the server reads them with the real face engine and real OCR.
"""
import re
import time

from playwright.sync_api import expect

from tests.bibs.helpers import runner_photo
from tests.browser.conftest import DESKTOP, PHONE, assert_csp_clean, open_page

# name -> (shared photo, bib under its face, what else)
RACE = {
    "start_4271.jpg": ("face_recognition_examples/obama.jpg", "4271", {"chip": "5512"}),
    "finish_A318.jpg": ("face_recognition_examples/biden.jpg", "A318", {}),
    "water_station.jpg": ("face_recognition_examples/obama2.jpg", None, {}),
    "turned_away_4271.jpg": ("face_recognition_tests/obama3.jpg", "4271", {"hide_face": True}),
}


def race_files(engine, faces_dir, folder):
    paths = []
    for name, (source, number, extra) in RACE.items():
        paths.append(folder / name)
        paths[-1].write_bytes(runner_photo(engine, faces_dir / source, number, **extra))
    return paths


def test_a_runner_finds_their_photos_by_typing_their_bib_on_a_phone(
        browser, server, engine, faces_dir, tmp_path, shoot, console_errors):
    photos = race_files(engine, faces_dir, tmp_path)
    context, page = open_page(browser, server, console_errors, DESKTOP, "en-US")

    # The photographer: sign up, a new event, tick "running event", drop the photos.
    page.goto("/auth/signup")
    page.get_by_label("Email").fill("race@example.com")
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.get_by_role("link", name="New event").first.click()
    page.get_by_label("Event name").fill("Chiang Mai Night Run")
    page.get_by_role("button", name="Create event").click()
    expect(page.locator("#event-name")).to_have_text("Chiang Mai Night Run")
    event_url = page.url

    card = page.locator("#bibs-card")
    card.get_by_label("Running event: read race bib numbers in the photos").check()
    card.get_by_role("button", name="Save").click()
    expect(page.locator("#bib-counts")).to_contain_text("0 numbers found")
    shoot(page, "running-event-ticked")

    with page.expect_file_chooser() as chooser:
        page.locator("#dropzone").click()
    chooser.value.set_files([str(p) for p in photos])
    page.get_by_role("button", name="Upload photos").click()
    expect(page.locator(".toast.success", has_text="Indexing complete")).to_be_visible(
        timeout=180000)

    # Bib reading follows indexing as its own job; the card counts it.
    deadline = time.monotonic() + 180
    while True:
        page.goto(event_url)
        counts = page.locator("#bib-counts").inner_text()
        if re.search(r"4 photos read, 0 to read", counts):
            break
        assert time.monotonic() < deadline, counts
        time.sleep(1)
    numbers = int(re.search(r"(\d+) numbers found", counts).group(1))
    assert numbers >= 2, counts  # 4271 and A318 (a timing chip's digits are not a bib)
    shoot(page, "bibs-read")
    public_url = page.locator("#public-url").inner_text().strip()
    context.close()

    # The runner, on a phone, from the event's QR code: types the number as they would.
    context, page = open_page(browser, server, console_errors, PHONE, "en-US",
                              is_mobile=True, has_touch=True)
    page.goto(public_url)
    expect(page.get_by_role("heading", name="Search by bib number")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Your bib number").fill(" 4271 ")
    shoot(page, "runner-types-bib")
    page.get_by_role("button", name="Find my photos by bib").click()
    expect(page.locator("h1")).to_have_text("Photos of bib 4271")
    expect(page.get_by_text("We found you in 3 photos.")).to_be_visible()
    # each photo says why it was found: the bib and its face, the bib alone (face turned
    # away), the face that wore the bib (no bib in that photo)
    badges = page.locator("#results .found-badge")
    expect(badges).to_have_count(3)
    assert sorted(badges.all_inner_texts()) == ["Face and bib", "Found by bib", "Found by face"]
    shoot(page, "runner-photos")

    # A number nobody wore: said so, no photos.
    page.get_by_role("link", name="Search again").click()
    page.get_by_label("Your bib number").fill("9999")
    page.get_by_role("button", name="Find my photos by bib").click()
    expect(page.get_by_text("No runner with that number.")).to_be_visible()
    shoot(page, "runner-unknown-bib")

    assert not console_errors, console_errors
    assert_csp_clean(page)
    assert not page.outside_requests, page.outside_requests
    context.close()
