"""The photographer's journey on a laptop: sign up, create an event, upload, watch indexing."""
import re

from PIL import Image, ImageOps
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, SMALL_PHONE, assert_csp_clean, open_page, wait_until

GROUP = ["fr_two_people.jpg", "fr_obama_and_biden.jpg", "fr_kit_with_rose.jpg",
         "dlib_2008_001322.jpg", "dlib_2008_002470.jpg"]
LFW = ["Tony_Blair/Tony_Blair_0001.jpg", "Serena_Williams/Serena_Williams_0001.jpg",
       "Hugo_Chavez/Hugo_Chavez_0001.jpg", "Laura_Bush/Laura_Bush_0001.jpg",
       "Colin_Powell/Colin_Powell_0001.jpg", "Gloria_Macapagal_Arroyo/Gloria_Macapagal_Arroyo_0001.jpg"]


def toast(page, kind, text):
    """The toast of this kind that says ``text``."""
    return page.locator(f".toast.{kind}", has_text=text)


def photo_files(faces_dir, tmp_path):
    """Real event photos, one photo that cannot be decoded, and a text file.

    The portraits are enlarged onto 4000 x 3000 camera-size frames: indexing
    them takes seconds, as real photos do, so the page's progress (polled every
    2 s) is seen part-way; small files alone are indexed between two polls.
    """
    paths = [faces_dir / "group_photos" / n for n in GROUP]
    for name in LFW:
        frame = ImageOps.pad(Image.open(faces_dir / "lfw_4plus" / name).convert("RGB"),
                             (4000, 3000), color=(96, 110, 104))
        paths.append(tmp_path / name.split("/")[-1])
        frame.save(paths[-1], "JPEG", quality=90)
    broken = tmp_path / "broken_photo.jpg"
    broken.write_bytes((faces_dir / "group_photos" / GROUP[0]).read_bytes()[:600])
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    return paths + [broken], notes


def test_photographer(browser, server, faces_dir, tmp_path, shoot, console_errors):
    context, page = open_page(browser, server, console_errors, DESKTOP, "en-US")
    photos, notes = photo_files(faces_dir, tmp_path)

    page.goto("/")
    expect(page.locator("h1")).to_contain_text("Find yourself in the event photos")
    shoot(page, "landing")

    # Sign up.
    page.get_by_role("link", name="For photographers").click()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name (optional)").fill("Nok Studio")
    page.get_by_label("Email").fill("nok@example.com")
    page.get_by_label("Password").fill("correct-horse-9")
    shoot(page, "signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(toast(page, "success", "Welcome to Phopy")).to_be_visible()
    expect(page.locator("#no-events")).to_be_visible()
    shoot(page, "dashboard-empty")

    # Create an event: the name is checked inline before anything is sent.
    page.get_by_role("link", name="New event").first.click()
    name = page.get_by_label("Event name")
    name.fill("ab")
    name.blur()
    expect(page.locator("#name-error")).to_have_text("The event name must be 3 to 100 characters.")
    expect(name).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Create event").click()
    expect(page).to_have_url(re.compile(r"/events/new$"))  # not sent
    shoot(page, "new-event-invalid-name")
    name.fill("Songkran Festival 2026")
    expect(page.locator("#name-error")).to_have_text("")
    page.get_by_label("Date (optional)").fill("2026-04-13")
    page.get_by_label("Location (optional)").fill("Chiang Mai")
    page.get_by_role("button", name="Create event").click()
    expect(page.locator("#event-name")).to_have_text("Songkran Festival 2026")
    expect(toast(page, "success", "Event created")).to_be_visible()

    # Its code and QR code.
    code = page.locator("#event-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code), code
    expect(page.locator("#public-url")).to_have_text(f"{server.url}/e/{code}")
    qr = page.locator("#event-qr")
    expect(qr).to_have_attribute("alt", re.compile(code))
    assert page.evaluate("img => img.complete && img.naturalWidth", qr.element_handle()) > 100
    shoot(page, "event-created")

    # Choose photos with the file chooser: the text file is refused in the page.
    with page.expect_file_chooser() as chooser:
        page.locator("#dropzone").click()
    chooser.value.set_files([str(p) for p in photos] + [str(notes)])
    expect(page.locator("#file-summary")).to_contain_text(f"{len(photos)} photos chosen")
    expect(toast(page, "error", "Skipped notes.txt")).to_be_visible()
    shoot(page, "photos-chosen")
    page.get_by_role("button", name="Upload photos").click()
    expect(toast(page, "success", f"{len(photos)} photos added")).to_be_visible()

    # The progress bar moves by itself: percent, ETA, current photo, faces found.
    wait_until(page, """() => {
            const pct = parseInt(document.querySelector('#progress-percent').textContent, 10);
            const item = document.querySelector('#current-item').textContent;
            return pct > 0 && pct < 100 && item.length > 0;
        }""", timeout=90, interval=0.2)
    expect(page.locator("#progress-current")).to_be_visible()
    expect(page.locator("#progress-eta")).to_contain_text(re.compile(r"left|Estimating"))
    expect(page.locator("#progress-faces")).to_be_visible()
    expect(page.locator("#task-state")).to_contain_text(re.compile(r"Indexing \d+ of 12"))
    bar_width = page.locator("#progress-bar").evaluate("el => parseFloat(el.style.width)")
    assert 0 < bar_width < 100
    shoot(page, "indexing-progress")

    # When indexing completes the page reloads itself and says so.
    expect(toast(page, "success", "Indexing complete")).to_be_visible(timeout=120000)
    expect(page.locator("#count-photos")).to_have_text(str(len(photos)))
    expect(page.locator("#count-scanned")).to_have_text(str(len(photos)))
    expect(page.locator("#count-errors")).to_have_text("1")
    assert int(page.locator("#count-faces").inner_text()) >= 10
    expect(page.locator("#progress-percent")).to_have_text("100%")
    expect(page.locator("#photo-grid li")).to_have_count(len(photos))
    expect(page.locator("details.errors summary")).to_contain_text("1 photo could not be read")
    shoot(page, "indexing-complete")

    # Dropping a photo that is already there: said so, nothing new to index.
    page.evaluate("""async ([url, name]) => {
        const blob = await (await fetch(url)).blob();
        const transfer = new DataTransfer();
        transfer.items.add(new File([blob], name, {type: 'image/jpeg'}));
        const zone = document.querySelector('#dropzone');
        for (const type of ['dragenter', 'dragover', 'drop'])
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", [page.locator("#photo-grid img").first.get_attribute("src").replace("/thumb", "/original"),
          "again.jpg"])
    expect(page.locator("#file-summary")).to_contain_text("1 photos chosen")
    page.get_by_role("button", name="Upload photos").click()
    expect(toast(page, "info", "Already in this event")).to_be_visible()

    # The event's counts on the dashboard.
    page.get_by_role("link", name="All events").click()
    card = page.locator(".event-card").filter(has_text="Songkran Festival 2026")
    expect(card).to_contain_text(f"{len(photos)} photos")
    expect(card).to_contain_text(code)
    expect(card.locator(".badge")).to_have_text("Indexed")
    shoot(page, "dashboard-events")

    # The same page in Thai, and the choice is remembered.
    page.locator("#lang-th").click()
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.locator("h1")).to_have_text("งานของคุณ")
    card.locator("h2 a").click()
    expect(page.get_by_role("heading", name="แชร์ให้แขก")).to_be_visible()
    shoot(page, "event-thai")

    # The dashboard also works on a small phone (360 px): nothing wider than the screen.
    page.set_viewport_size(SMALL_PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    shoot(page, "event-thai-360px")

    assert not console_errors, console_errors
    assert_csp_clean(page)
    assert not page.outside_requests, page.outside_requests
    context.close()
