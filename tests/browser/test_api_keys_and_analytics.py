"""In Chromium: make an API key on the dashboard, use it, then read the event's analytics charts.

The analytics page is loaded under a strict Content-Security-Policy (scripts only from the
app itself), so Chart.js and static/js/analytics.js must work with no inline script.
"""
import re
import time

import requests
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, open_page

CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'"


def strict_csp(route):
    response = route.fetch()
    headers = dict(response.headers, **{"content-security-policy": CSP})
    route.fulfill(response=response, headers=headers)


def test_key_from_dashboard_drives_the_api_and_analytics_draws(browser, server, faces_dir,
                                                              shoot, console_errors):
    from tests.conftest import PASSWORD, make_photographer
    make_photographer(server.app(), "keys@example.com")
    context, page = open_page(browser, server, console_errors, DESKTOP, "en-US")
    page.goto("/auth/login")
    page.get_by_label("Email").fill("keys@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.locator("#api-keys-link").click()
    page.get_by_label("Name (what the key is for)").fill("curl on my laptop")
    page.locator("#create-key").click()
    key = page.locator("#new-key-value").inner_text().strip()
    assert re.fullmatch(r"phopy_[A-Za-z0-9_-]{40}", key)
    shoot(page, "api-key-created")
    page.goto("/dashboard/api-keys/")
    expect(page.locator("#new-key-value")).to_have_count(0)  # shown once
    expect(page.locator("#key-table")).to_contain_text("curl on my laptop")

    h = {"Authorization": f"Bearer {key}"}
    event = requests.post(server.url + "/api/events", headers=h, json={"name": "Keyed Day"},
                          timeout=30).json()
    group = faces_dir / "group_photos"
    files = [("photos", (n, (group / n).read_bytes(), "image/jpeg"))
             for n in ("fr_two_people.jpg", "fr_kit_with_rose.jpg")]
    task = requests.post(f"{server.url}/api/events/{event['id']}/photos", headers=h,
                         files=files, timeout=120).json()["task"]
    deadline = time.monotonic() + 150
    while requests.get(f"{server.url}/api/tasks/{task['id']}", headers=h,
                       timeout=30).json()["status"] != "completed":
        assert time.monotonic() < deadline, "indexing did not finish"
        time.sleep(0.3)
    selfie = faces_dir / "face_recognition_examples" / "obama.jpg"
    for _ in range(2):
        found = requests.post(server.url + "/api/search-face", data={"event_id": event["id"]},
                              files=[("selfies", ("me.jpg", selfie.read_bytes(), "image/jpeg"))],
                              timeout=120)
        assert found.status_code == 200 and len(found.json()["photos"]) == 1

    page.route("**/dashboard/events/*/analytics", strict_csp)
    page.goto(f"/dashboard/events/{event['id']}")
    page.locator("#analytics-link").click()
    expect(page.locator("#analytics")).to_have_attribute("data-ready", "1")
    expect(page.locator('[data-stat="searches"]')).to_have_text("2")
    expect(page.locator('[data-stat="found_share"]')).to_have_text("100%")
    assert page.locator("#chart-top").get_attribute("data-points") == "1"
    assert page.locator("#chart-indexing").get_attribute("data-points") != "0"
    width = page.evaluate("document.getElementById('chart-hours').width")
    assert width > 100  # Chart.js sized and drew the canvas
    shoot(page, "analytics")
    assert not page.outside_requests
    assert not console_errors
    context.close()
