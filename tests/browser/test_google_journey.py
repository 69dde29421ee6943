"""A photographer signs in with Google (the fake), links a Drive folder, finds Obama."""
import re
import shutil

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, Server, open_page, require_chromium
from tests.fakes.google_fixture import FakeGoogle

PHOTOS = [("group_photos", "fr_two_people.jpg"), ("group_photos", "fr_obama_and_biden.jpg"),
          ("group_photos", "fr_kit_with_rose.jpg"), ("face_recognition_examples", "biden.jpg")]


class GoogleServer(Server):
    """The Phopy server with every Google endpoint pointed at the fake."""

    def __init__(self, root, google):
        super().__init__(root)
        self.google = google

    def env(self):
        env = super().env()
        env.update({k: str(v) for k, v in self.google.config().items()})
        env["DRIVE_SYNC_MINUTES"] = "0"
        return env


@pytest.fixture
def google_setup(tmp_path, faces_dir):
    require_chromium()
    folder = tmp_path / "Songkran 2026"
    folder.mkdir()
    for sub, name in PHOTOS:
        shutil.copy(faces_dir / sub / name, folder / name)
    google = FakeGoogle(folders=[folder], email="nok.studio@example.com")
    server = GoogleServer(tmp_path / "srv", google)
    (tmp_path / "srv").mkdir()
    server.start()
    yield google, server
    server.stop()
    google.stop()


def test_google_drive_journey(browser, google_setup, faces_dir, shoot, console_errors):
    google, server = google_setup
    context, page = open_page(browser, server, console_errors, DESKTOP, "en-US")

    page.goto("/auth/login")
    page.locator("#google-signin").click()
    expect(page).to_have_title(re.compile("Sign in - Google Accounts"))
    expect(page.get_by_label("Email")).to_have_value("nok.studio@example.com")
    shoot(page, "fake-consent")
    page.locator("#allow").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    shoot(page, "signed-in")

    page.get_by_role("link", name="New event").first.click()
    page.get_by_label("Event name").fill("Songkran Chiang Mai")
    page.get_by_role("button", name="Create event").click()
    expect(page.locator("#drive-card")).to_be_visible()
    page.locator("#drive-choose").click()
    page.locator("#drive-connect").click()
    expect(page.locator("body")).to_contain_text("drive.readonly")  # asked only now
    page.locator("#allow").click()
    expect(page.locator("#drive-folders")).to_contain_text("Songkran 2026")
    shoot(page, "folder-browser")
    page.locator("[data-choose='Songkran 2026']").click()
    expect(page.locator("#check-counts")).to_contain_text("4 photos to import")
    expect(page.locator("#check-counts")).to_contain_text("3 other files will be skipped")
    shoot(page, "folder-check")
    page.locator("#drive-link").click()
    expect(page.locator("#drive-folder")).to_have_text("Songkran 2026")

    # drive.js reloads the page when the sync ends; indexing follows.
    expect(page.locator("#drive-sync-state")).to_contain_text("4 added", timeout=60000)
    status_url = page.locator("#drive-card").get_attribute("data-drive-status")
    for _ in range(240):
        body = page.request.get(status_url).json()
        if body["checkpoint"]["complete"] and body["checkpoint"]["total_photos"] == 4:
            break
        page.wait_for_timeout(500)
    else:
        pytest.fail(f"indexing did not finish: {body}")
    page.reload()
    shoot(page, "imported")
    code = page.locator("#event-code").inner_text().strip()

    page.goto(f"/e/{code}")
    page.locator("#selfies").set_input_files(
        str(faces_dir / "face_recognition_examples" / "obama.jpg"))
    with page.expect_navigation():
        page.evaluate("document.querySelector('#selfie-form').submit()")
    expect(page.locator("#results")).to_be_visible(timeout=60000)
    names = page.locator("#results .lightbox-link").evaluate_all(
        "links => links.map(a => a.dataset.name)")
    assert set(names) == {"fr_two_people.jpg", "fr_obama_and_biden.jpg"}
    shoot(page, "obama-found")
    assert not console_errors
    context.close()
