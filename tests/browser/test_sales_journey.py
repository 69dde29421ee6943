"""Buying photos on a phone (390×844): a paid event's prices, watermarked previews, the
checkout, PromptPay through the fake Stripe (its signed webhook reaches the real
server), and the original downloaded; before payment the original answers 403."""
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, assert_csp_clean, open_page, require_chromium
from tests.fakes.stripe_server import SECRET_KEY, WEBHOOK_SECRET, FakeStripeServer

PHOTOS = ["group_photos/fr_two_people.jpg", "group_photos/fr_kit_with_rose.jpg"]
PHONE_OPTIONS = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}


class SalesServer(Server):
    """The browser tests' gunicorn server with Stripe pointed at the fake."""

    stripe_url = None

    def env(self):
        return dict(super().env(), STRIPE_SECRET_KEY=SECRET_KEY,
                    STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=self.stripe_url)


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory):
    require_chromium()
    srv = SalesServer(tmp_path_factory.mktemp("sales-server"))
    fake = FakeStripeServer(webhook_url=srv.url + "/sales/stripe/webhook").start()
    srv.stripe_url = fake.url
    srv.start()
    yield srv, fake
    srv.stop()
    fake.stop()


def paid_event(srv, faces_dir):
    from phopy.data import get_database
    from phopy.data import sales as sales_db
    from tests.conftest import add_files, make_event, make_photographer
    app = srv.app()
    owner = make_photographer(app, "seller@example.com")
    event = make_event(app, owner["id"], "Temple Run 2026")
    add_files(app, event["id"], [faces_dir / p for p in PHOTOS])
    conn = get_database(app).connect()
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            status = conn.scalar("SELECT status FROM tasks WHERE event_id = ?", (event["id"],))
            if status in ("completed", "failed"):
                break
            time.sleep(0.3)
        assert status == "completed"
        sales_db.save_pricing(conn, event["id"], 8000, None, [], "stripe", None)
    finally:
        conn.close()
    return app, event


def test_buy_on_a_phone(browser, shop_server, faces_dir, tmp_path, shoot, console_errors):
    srv, fake = shop_server
    app, event = paid_event(srv, faces_dir)
    context, page = open_page(browser, srv, console_errors, PHONE, "en-US", **PHONE_OPTIONS)
    page.goto(f"/e/{event['code']}")
    expect(page.locator("#sales-offer")).to_contain_text("80 THB a photo")
    shoot(page, "prices")
    page.set_input_files("#selfies", str(faces_dir / "face_recognition_examples/obama.jpg"))
    page.locator("#search-button").click()
    expect(page.locator("#checkout")).to_be_visible()
    assert page.locator("#results a.dl").count() == 0 and page.locator("#zip-link").count() == 0
    thumb = page.locator("#results img").first
    expect(thumb).to_have_js_property("complete", True)
    assert 0 < thumb.evaluate("img => img.naturalWidth") <= 1200
    src = thumb.get_attribute("src")
    assert page.request.get(src.replace("/thumb", "/download")).status == 403
    shoot(page, "previews")

    page.fill("#buyer-email", "buyer@example.com")
    page.locator("#buy-button").click()
    expect(page.locator("#order-qr")).to_be_visible()
    shoot(page, "qr")
    intent = next(iter(fake.state.intents.values()))
    assert intent["amount"] == 8000 and intent["payment_method_types"] == ["promptpay"]
    status, _event = fake.pay(intent["id"])  # the buyer's bank app; the webhook follows
    assert status == 200
    page.locator("#order-refresh").click()
    expect(page.locator("#order-paid")).to_be_visible()
    shoot(page, "paid")
    with page.expect_download() as download_info:
        page.locator(".order-photo").first.click()
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    assert path.name == "fr_two_people.jpg"
    assert Image.open(path).size == Image.open(faces_dir / PHOTOS[0]).size
    assert_csp_clean(page)
    assert console_errors == []
    context.close()
