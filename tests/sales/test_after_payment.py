"""After payment: the receipt e-mail through a real SMTP server on 127.0.0.1 (aiosmtpd),
sent once in the buyer's language; an SMTP server that is down is retried and never
fails the order; the LINE push to a buyer who came from the LINE gallery (the fake LINE
server); the dashboard's "slips waiting" badge; a photo deleted after it was sold."""
import io
import socket
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from phopy import create_app
from phopy.data import get_database
from phopy.extensions import get_storage
from phopy.line.gallery_links import sign_gallery_token
from phopy.sales import orders
from tests.conftest import db_rows, make_test_config, run_jobs
from tests.fakes.line_server import FakeLineServer
from tests.fakes.stripe_server import SECRET_KEY, WEBHOOK_SECRET
from tests.sales.conftest import Shop
from tests.sales.test_promptpay import slip_png


class Inbox(Message):
    """What the local SMTP server received."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.inbox = inbox
    yield controller
    controller.stop()


def shop_with(tmp_path, stripe_server, **settings):
    app = create_app(make_test_config(tmp_path, STRIPE_SECRET_KEY=SECRET_KEY,
                                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                                      STRIPE_API_BASE=stripe_server.url, **settings))
    return Shop(app, tmp_path)


def pay(shop, stripe_server, token):
    _status, event = stripe_server.pay(shop.order(token)["payment_ref"])
    assert shop.deliver(event).status_code == 200
    return event


def test_the_receipt_is_mailed_once_in_the_buyers_language(tmp_path, stripe_server, smtp):
    shop = shop_with(tmp_path, stripe_server, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                     SMTP_STARTTLS=False, SMTP_FROM="shop@example.com",
                     PUBLIC_BASE_URL="https://photos.example.com")
    shop.set_prices(photo_price="100")
    shop.buyer.set_cookie("phopy_lang", "th")
    token = shop.order_token(shop.buy(photos=shop.photo_ids[:2], email="buyer@example.com"))
    assert shop.order(token)["lang"] == "th"
    event = pay(shop, stripe_server, token)
    run_jobs(shop.app)
    assert len(smtp.inbox.messages) == 1
    mail = smtp.inbox.messages[0]
    assert mail["To"] == "buyer@example.com" and "shop@example.com" in mail["From"]
    body = mail.get_payload(decode=True).decode()
    assert f"https://photos.example.com/o/{token}" in body  # the secret link, again
    assert "200.00 THB" in body or "200 THB" in body
    assert "ขอบคุณ" in body  # Thai, the language the buyer bought in
    assert shop.order(token)["receipt_sent_at"]
    # a redelivered webhook, or another round of jobs, sends nothing more
    shop.deliver(event)
    run_jobs(shop.app)
    assert len(smtp.inbox.messages) == 1


def test_an_english_buyer_gets_an_english_receipt(tmp_path, stripe_server, smtp):
    shop = shop_with(tmp_path, stripe_server, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                     SMTP_STARTTLS=False)
    shop.set_prices(photo_price="100")
    shop.buyer.set_cookie("phopy_lang", "en")
    token = shop.order_token(shop.buy())
    pay(shop, stripe_server, token)
    run_jobs(shop.app)
    body = smtp.inbox.messages[0].get_payload(decode=True).decode()
    assert "Thank you for your order" in body and "Temple Run 2026" in body


def test_a_mail_server_that_is_down_is_retried_and_the_order_stays_paid(tmp_path,
                                                                       stripe_server):
    port = free_port()  # nothing listens there yet
    shop = shop_with(tmp_path, stripe_server, SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                     SMTP_STARTTLS=False)
    shop.set_prices(photo_price="100")
    token = shop.order_token(shop.buy())
    pay(shop, stripe_server, token)
    run_jobs(shop.app, rounds=1)
    order = shop.order(token)
    assert order["status"] == "paid" and order["receipt_sent_at"] is None
    job = db_rows(shop.app, "SELECT * FROM tasks WHERE kind = 'sales_receipt'")
    assert job and job[0]["status"] == "pending"
    assert "SMTP_HOST" in (job[0]["error"] or "")
    assert shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[0]}").status_code == 200
    # the server comes up: the retry sends it
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        shop.run("UPDATE tasks SET run_after = 0 WHERE kind = 'sales_receipt'")
        run_jobs(shop.app)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1 and shop.order(token)["receipt_sent_at"]


def test_without_smtp_nothing_is_queued(shop, stripe_server):
    shop.set_prices(photo_price="100")
    token = shop.order_token(shop.buy())
    pay(shop, stripe_server, token)
    assert db_rows(shop.app, "SELECT * FROM tasks WHERE kind = 'sales_receipt'") == []


def join_line(shop, user_id):
    """A LINE user who joined the event and was found in its first two photos."""
    now = datetime.now(timezone.utc).isoformat()
    shop.run("INSERT INTO line_users (user_id, language, created_at) VALUES (?, 'en', ?)",
             (user_id, now))
    shop.run("INSERT INTO line_participants (event_id, user_id, joined_at) VALUES (?, ?, ?)",
             (shop.event["id"], user_id, now))
    for photo_id in shop.photo_ids[:2]:
        shop.run("INSERT INTO line_matches (event_id, user_id, photo_id, found_at) "
                 "VALUES (?, ?, ?, ?)", (shop.event["id"], user_id, photo_id, now))
    return sign_gallery_token(shop.app.config["SECRET_KEY"], shop.event["id"], user_id)


def test_a_buyer_from_the_line_gallery_gets_the_link_pushed_in_line(tmp_path, stripe_server):
    line = FakeLineServer().start()
    try:
        shop = shop_with(tmp_path, stripe_server, LINE_API_HOST=line.url,
                         LINE_CHANNEL_SECRET="s", LINE_CHANNEL_ACCESS_TOKEN="t",
                         PUBLIC_BASE_URL="https://photos.example.com")
        shop.set_prices(photo_price="100")
        gallery_token = join_line(shop, "U" + "1" * 32)
        page = shop.buyer.get(f"/line/gallery/{gallery_token}")
        assert page.status_code == 200 and b'id="checkout-form"' in page.data
        assert b'name="lt"' in page.data
        result = page.data.split(b'name="t" value="')[1].split(b'"')[0].decode()
        buyer = page.data.split(b'name="lt" value="')[1].split(b'"')[0].decode()
        response = shop.buyer.post(f"/e/{shop.event['code']}/buy", data={
            "t": result, "lt": buyer, "email": "",
            "photos": [str(p) for p in shop.photo_ids[:2]]})
        token = shop.order_token(response)  # no e-mail needed: the link comes in LINE
        assert shop.order(token)["line_user_id"] == "U" + "1" * 32
        event = pay(shop, stripe_server, token)
        shop.deliver(event)  # redelivered: one push only
        run_jobs(shop.app)
        pushed = line.delivered("push", to="U" + "1" * 32)
        assert len(pushed) == 1
        assert f"https://photos.example.com/o/{token}" in pushed[0]["messages"][0]["text"]
        # a forged LINE buyer, or a photo-set token in its place, is refused
        bad = shop.buyer.post(f"/e/{shop.event['code']}/buy", data={
            "t": result, "lt": "forged", "photos": [str(shop.photo_ids[0])]})
        assert bad.status_code == 404
        other = shop.buyer.post(f"/e/{shop.event['code']}/buy", data={
            "t": result, "lt": result, "photos": [str(shop.photo_ids[0])]})
        assert other.status_code == 404
    finally:
        line.stop()


def test_the_dashboard_shows_how_many_slips_wait(shop):
    assert b'id="slips-waiting"' not in shop.owner.get("/dashboard/").data
    shop.set_prices(provider="promptpay", promptpay_id="081-234-5678")
    tokens = [shop.order_token(shop.buy(email="")) for _ in range(2)]
    for token in tokens:
        shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(slip_png()), "s.png")},
                        content_type="multipart/form-data")
    page = shop.owner.get("/dashboard/").data
    assert b'id="slips-waiting"' in page
    assert b'<span class="badge warn" id="slips-waiting-count">2</span>' in page
    order = shop.order(tokens[0])
    shop.owner.post(f"/dashboard/events/{shop.event['id']}/orders/{order['id']}/confirm")
    page = shop.owner.get("/dashboard/").data
    assert b'id="slips-waiting-count">1</span>' in page


def test_a_photo_deleted_after_the_sale_stays_downloadable_until_the_order_ends(shop,
                                                                                stripe_server):
    shop.set_prices(photo_price="100")
    token = shop.order_token(shop.buy(photos=shop.photo_ids[:2]))
    pay(shop, stripe_server, token)
    before = shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[0]}").data
    sold = shop.photo_ids[0]
    response = shop.owner.post(f"/dashboard/events/{shop.event['id']}/photos/{sold}/delete")
    assert response.status_code in (302, 303)
    assert db_rows(shop.app, "SELECT id FROM photos WHERE id = ?", (sold,)) == []
    order = shop.order(token)
    item = db_rows(shop.app, "SELECT * FROM sales_order_items WHERE order_id = ? AND "
                             "photo_id = ?", (order["id"], sold))[0]
    assert item["kept_key"] and item["filename"] == "run1.jpg"
    got = shop.buyer.get(f"/o/{token}/photos/{sold}")
    assert got.status_code == 200 and got.data == before
    archive = zipfile.ZipFile(io.BytesIO(shop.buyer.get(f"/o/{token}/photos.zip").data))
    assert sorted(archive.namelist()) == ["run1.jpg", "run2.jpg"]
    assert b"run1.jpg" in shop.buyer.get(f"/o/{token}").data
    # the downloads end: the kept copy is deleted with the buyer's data
    with shop.app.app_context():
        conn = get_database(shop.app).connect()
        try:
            later = datetime.now(timezone.utc) + timedelta(days=31)
            orders.prune(conn, get_storage(shop.app), now=later)
        finally:
            conn.close()
        assert not get_storage(shop.app).exists(item["kept_key"])
    assert shop.buyer.get(f"/o/{token}/photos/{sold}").status_code in (403, 404)


def test_a_sold_photo_kept_after_deletion_keeps_the_events_banner(shop, stripe_server):
    """The buyer's kept copy is the photo as its downloads were: with the banner on it."""
    from PIL import Image
    logo = io.BytesIO()
    Image.new("RGBA", (120, 40), (255, 0, 0, 255)).save(logo, "PNG")
    done = shop.owner.post(f"/dashboard/events/{shop.event['id']}/banner",
                           data={"banner": (io.BytesIO(logo.getvalue()), "logo.png"),
                                 "banner_position": "bottom-right"},
                           content_type="multipart/form-data")
    assert done.status_code in (302, 303)
    shop.set_prices(photo_price="100")
    sold = shop.photo_ids[0]
    token = shop.order_token(shop.buy(photos=[sold]))
    pay(shop, stripe_server, token)
    bannered = shop.buyer.get(f"/o/{token}/photos/{sold}").data
    original = get_storage(shop.app).read(
        db_rows(shop.app, "SELECT storage_key FROM photos WHERE id = ?", (sold,))[0]["storage_key"])
    assert bannered != original
    shop.owner.post(f"/dashboard/events/{shop.event['id']}/photos/{sold}/delete")
    kept = shop.buyer.get(f"/o/{token}/photos/{sold}")
    assert kept.status_code == 200 and kept.data != original
    corner = Image.open(io.BytesIO(kept.data)).convert("RGB")
    red = [p for p in corner.crop((corner.width - 200, corner.height - 120, corner.width,
                                   corner.height)).get_flattened_data() if p[0] > 200 and p[1] < 60]
    assert len(red) > 1000  # the red banner is in the kept copy's bottom-right corner
    archive = zipfile.ZipFile(io.BytesIO(shop.buyer.get(f"/o/{token}/photos.zip").data))
    assert archive.read(archive.namelist()[0]) == kept.data
