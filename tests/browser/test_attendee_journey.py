"""The attendee's journey on a phone (390×844, Thai): selfies in, their photos out."""
import io
import re
import time
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, assert_csp_clean, open_page, wait_until

EVENT_PHOTOS = ["group_photos/fr_two_people.jpg", "group_photos/fr_obama_and_biden.jpg",
                "group_photos/fr_kit_with_rose.jpg", "lfw_4plus/Tony_Blair/Tony_Blair_0001.jpg",
                "lfw_4plus/Laura_Bush/Laura_Bush_0001.jpg"]
OBAMA_PHOTOS = {"fr_two_people.jpg", "fr_obama_and_biden.jpg"}
PHONE_OPTIONS = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def indexed_event(server, faces_dir):
    """An event with real photos, indexed by the server's own job runner."""
    from phopy.data import get_database
    from tests.conftest import add_files, make_event, make_photographer
    app = server.app()
    owner = make_photographer(app, "press@example.com")
    event = make_event(app, owner["id"], "งานสงกรานต์ เชียงใหม่ 2026", location="Chiang Mai",
                       event_date="2026-04-13")
    add_files(app, event["id"], [faces_dir / p for p in EVENT_PHOTOS])
    conn = get_database(app).connect()
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            status = conn.scalar("SELECT status FROM tasks WHERE event_id = ?", (event["id"],))
            if status in ("completed", "failed"):
                break
            time.sleep(0.3)
        assert status == "completed", f"indexing did not complete: {status}"
    finally:
        conn.close()
    return event


def selfie_files(faces_dir, tmp_path):
    examples = faces_dir / "face_recognition_examples"
    notes = tmp_path / "notes.txt"
    notes.write_text("not a selfie\n")
    big = tmp_path / "big.jpg"
    big.write_bytes((examples / "obama.jpg").read_bytes() + b"\0" * (10 * 1024 * 1024 + 1))
    return {"obama": examples / "obama.jpg", "obama2": examples / "obama2.jpg",
            "biden": examples / "biden.jpg", "small": examples / "obama_small.jpg",
            "notes": notes, "big": big, "dog": faces_dir / "no_faces" / "dlib_dog.jpg",
            "stranger": faces_dir / "lfw_4plus" / "Serena_Williams" / "Serena_Williams_0002.jpg"}


def test_attendee(browser, server, faces_dir, indexed_event, tmp_path, shoot, console_errors):
    files = selfie_files(faces_dir, tmp_path)
    context, page = open_page(browser, server, console_errors, PHONE, "th-TH", **PHONE_OPTIONS)
    code = indexed_event["code"]

    # The QR code's link, in Thai from the phone's Accept-Language.
    page.goto(f"/e/{code}")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.locator("#event-name")).to_have_text("งานสงกรานต์ เชียงใหม่ 2026")
    button = page.locator("#search-button")
    expect(button).to_be_disabled()
    expect(button).to_contain_text("ค้นหารูปของฉัน")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "event-page")

    # Type and size are checked in the page, with inline messages.
    selfies = page.locator("#selfies")
    error = page.locator("#selfie-error")
    selfies.set_input_files(str(files["notes"]))
    expect(error).to_contain_text("notes.txt ไม่ใช่รูปภาพ")
    expect(button).to_be_disabled()
    selfies.set_input_files(str(files["big"]))
    expect(error).to_contain_text("big.jpg ใหญ่เกินไป (จำกัดรูปละ 10 MB)")
    expect(button).to_be_disabled()
    expect(page.locator("#selfie-previews li")).to_have_count(0)
    shoot(page, "selfie-refused")

    # Previews, at most three, each with a remove button.
    selfies.set_input_files(str(files["obama"]))
    expect(page.locator("#selfie-previews li")).to_have_count(1)
    expect(error).to_have_text("")
    expect(button).to_be_enabled()
    selfies.set_input_files([str(files[k]) for k in ("obama2", "biden", "small")])
    expect(page.locator("#selfie-previews li")).to_have_count(3)
    expect(error).to_contain_text("ใช้เซลฟี่ได้สูงสุด 3 รูป")
    expect(page.locator("#selfie-count")).to_have_text("เลือกเซลฟี่แล้ว 3 จาก 3 รูป")
    expect(page.get_by_role("img", name="ตัวอย่างเซลฟี่: obama.jpg")).to_be_visible()
    shoot(page, "selfie-previews")
    page.get_by_role("button", name="นำ obama2.jpg ออก").click()
    page.get_by_role("button", name="นำ biden.jpg ออก").click()
    expect(page.locator("#selfie-previews li")).to_have_count(1)
    assert page.evaluate("document.querySelector('#selfies').files.length") == 1

    # Search: the button shows it is working, then the results grid. (This first
    # submit is stopped after app.js has reacted to it, to look at the button.)
    page.evaluate("""() => document.querySelector('#selfie-form')
        .addEventListener('submit', e => e.preventDefault(), {once: true})""")
    button.click()
    expect(button).to_have_class(re.compile("loading"))
    expect(button).to_have_text("กำลังค้นหารูปของคุณ…")
    expect(button).to_be_disabled()
    shoot(page, "searching", full_page=False)
    with page.expect_navigation():
        page.evaluate("document.querySelector('#selfie-form').submit()")
    expect(page.locator("#results")).to_be_visible(timeout=60000)
    expect(page.locator("#result-count")).to_have_text("พบคุณใน 2 รูป")
    names = page.locator("#results .lightbox-link").evaluate_all(
        "links => links.map(a => a.dataset.name)")
    assert set(names) == OBAMA_PHOTOS and len(names) == 2
    wait_until(page, "[...document.querySelectorAll('#results img')]"
                     ".every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "results")
    page.set_viewport_size(DESKTOP)
    shoot(page, "results-desktop")
    page.set_viewport_size(PHONE)

    # A photo in the lightbox, then downloaded from there.
    page.locator("#results .lightbox-link").first.click()
    lightbox = page.locator("#lightbox")
    expect(lightbox).to_be_visible()
    wait_until(page, "document.querySelector('#lightbox-img').naturalWidth > 0")
    expect(page.locator("#lightbox-caption")).to_contain_text("รูปที่ 1 จาก 2")
    shoot(page, "lightbox", full_page=False)
    with page.expect_download() as download_info:
        page.locator("#lightbox-download").click()
    download = download_info.value
    assert download.suggested_filename in OBAMA_PHOTOS
    photo_path = tmp_path / download.suggested_filename
    download.save_as(photo_path)
    with Image.open(photo_path) as image:
        image.verify()
        assert image.format == "JPEG"
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()

    # Everything as one ZIP.
    with page.expect_download() as download_info:
        page.locator("#zip-link").click()
    zip_path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(zip_path)
    assert zip_path.name == f"phopy-{code}.zip"
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.testzip() is None
        assert {n.rsplit("/", 1)[-1] for n in archive.namelist()} == OBAMA_PHOTOS
        for member in archive.namelist():
            Image.open(io.BytesIO(archive.read(member))).verify()

    # A selfie with no face: a clear message on the page.
    page.get_by_role("link", name="ค้นหาอีกครั้ง").click()
    page.locator("#selfies").set_input_files(str(files["dog"]))
    page.locator("#search-button").click()
    expect(page.locator("#search-error")).to_contain_text("เราไม่พบใบหน้าในเซลฟี่ของคุณ")
    shoot(page, "no-face")

    # Someone who is not in the photos: the empty state.
    page.locator("#selfies").set_input_files(str(files["stranger"]))
    page.locator("#search-button").click()
    expect(page.locator("#no-results")).to_contain_text("ยังไม่พบรูปของคุณ — ลองใช้เซลฟี่รูปอื่น")
    shoot(page, "no-results")

    # The language switcher, remembered on the next page.
    page.locator("#lang-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"/e/{code}")
    expect(page.locator("#search-button")).to_contain_text("Find my photos")
    shoot(page, "event-page-english")

    # A wrong code: a friendly error page.
    page.goto("/e/ZZZZZZ")
    expect(page.locator("#error-page h1")).to_contain_text("No event has this code")
    shoot(page, "not-found")

    assert not console_errors, console_errors
    assert_csp_clean(page)
    assert not page.outside_requests, page.outside_requests
    context.close()


def test_attendee_without_javascript(browser, server, faces_dir, indexed_event, shoot,
                                     console_errors):
    """The basic selfie form works with JavaScript off."""
    context, page = open_page(browser, server, console_errors, PHONE, "th-TH",
                              java_script_enabled=False, **PHONE_OPTIONS)
    page.goto(f"/e/{indexed_event['code']}")
    expect(page.locator("#search-button")).to_be_enabled()
    expect(page.locator("#selfies")).to_be_visible()
    shoot(page, "event-page")
    page.locator("#selfies").set_input_files(
        str(faces_dir / "face_recognition_examples" / "obama.jpg"))
    page.locator("#search-button").click()
    expect(page.locator("#result-count")).to_have_text("พบคุณใน 2 รูป")
    expect(page.locator("#zip-link")).to_be_visible()
    shoot(page, "results")
    context.close()
