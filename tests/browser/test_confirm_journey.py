""""Is this you?" on a phone (390×844), in Thai and in English, in Chromium against a
real server: the page shows the attendee's photos and asks about the faces it is unsure
of (face crops only); "This is me" moves a photo into their photos and searches again;
"Not me" takes one out; "Done" forgets the search.

The event holds five photos of Obama and three of others, indexed with the default
engine. The server's bands (FACE_TOLERANCE, FACE_BORDERLINE, as a deployment sets them)
come from the selfie's real distances: sure of one photo, unsure of two.
"""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, assert_csp_clean, open_page, wait_until
from tests.conftest import ENGINE_NAMES, add_files, index_all, make_event, make_photographer, \
    use_engine
from tests.web.test_answers import OBAMA, OTHERS, api_search, bands, candidates

PHONE_OPTIONS = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}


class TunedServer(Server):
    """The browser tests' gunicorn with extra settings in its environment."""

    extra = {}

    def env(self):
        return {**super().env(), **self.extra}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, faces_dir, engine_for):
    from tests.browser.conftest import require_chromium
    require_chromium()
    srv = TunedServer(tmp_path_factory.mktemp("confirm-server"))
    app = use_engine(srv.app(), *engine_for(ENGINE_NAMES[0]))
    owner = make_photographer(app, "press@example.com")
    event = make_event(app, owner["id"], "งานแถลงข่าว 2026")
    add_files(app, event["id"], [faces_dir / p for p in {**OBAMA, **OTHERS}.values()])
    assert index_all(app) == 1
    settings = app.extensions["phopy_engine_settings"]
    bands(app, settings, tolerance=0.01, borderline=0.6)
    seen = sorted((c["distance"], name) for name, c in
                  candidates(app, api_search(app.test_client(), event, faces_dir)).items())
    assert len(seen) == len(OBAMA), seen
    d = [distance for distance, _name in seen]
    srv.extra = {"FACE_ENGINE": ENGINE_NAMES[0], "FACE_TOLERANCE": str((d[0] + d[1]) / 2),
                 "FACE_BORDERLINE": str((d[2] + d[3]) / 2)}
    srv.start()
    srv.event = event
    yield srv
    srv.stop()


def search(page, faces_dir, code):
    page.goto(f"/e/{code}")
    page.locator("#selfies").set_input_files(
        str(faces_dir / "face_recognition_examples" / "obama.jpg"))
    with page.expect_navigation():
        page.locator("#search-button").click()
    expect(page.locator("#results")).to_be_visible(timeout=60000)


def crops_loaded(page):
    wait_until(page, "[...document.querySelectorAll('#asked img')]"
                     ".every(i => i.complete && i.naturalWidth > 0)")


@pytest.mark.parametrize("locale, words", [
    ("th-TH", {"found": "พบคุณใน 1 รูป", "asked": "นี่คือคุณหรือเปล่า?", "me": "นี่คือฉัน",
               "not_me": "ไม่ใช่ฉัน"}),
    ("en-US", {"found": "We found you in 1 photo.", "asked": "Is this you?",
               "me": "This is me", "not_me": "Not me"})])
def test_is_this_you_on_a_phone(browser, tuned, faces_dir, shoot, console_errors, locale,
                                words):
    context, page = open_page(browser, tuned, console_errors, PHONE, locale, **PHONE_OPTIONS)
    search(page, faces_dir, tuned.event["code"])
    expect(page.locator("#result-count")).to_have_text(words["found"])
    expect(page.locator("#asked-title")).to_have_text(words["asked"])
    cards = page.locator("#asked .face-card")
    expect(cards).to_have_count(2)
    expect(cards.first.locator(".this-is-me")).to_have_text(words["me"])
    expect(cards.first.locator(".not-me")).to_have_text(words["not_me"])
    crops_loaded(page)
    sizes = page.locator("#asked img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert all(0 < s <= 200 for s in sizes), sizes  # the face only, small
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, f"asked-{locale}")

    # "This is me": the photo joins the results, marked as confirmed; the search runs again
    with page.expect_navigation():
        cards.last.locator(".this-is-me").click()
    expect(page.locator("#results .you-badge")).to_have_count(1)
    found = page.locator("#results .lightbox-link").count()
    assert found >= 2
    shoot(page, f"confirmed-{locale}")

    # "Not me" on a face still asked about: it is gone and never asked again
    left = page.locator("#asked .face-card")
    if left.count():
        face = left.first.locator("input[name=face_id]").get_attribute("value")
        with page.expect_navigation():
            left.first.locator(".not-me").click()
        assert page.locator(f"#asked input[name=face_id][value='{face}']").count() == 0
    else:  # nothing left to ask: "Not me" on a result takes it out instead
        with page.expect_navigation():
            page.locator("#results .not-me").first.click()
        assert page.locator("#results .lightbox-link").count() == found - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, f"not-me-{locale}")

    # "Done": the search is forgotten; its page is gone
    session_url = page.url.split("#")[0]
    with page.expect_navigation():
        page.locator("#end-search").click()
    expect(page.locator("#selfie-form")).to_be_visible()
    assert page.goto(session_url).status == 404
    assert_csp_clean(page)
    assert console_errors == []
    context.close()
