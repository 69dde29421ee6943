"""Sales fixtures: the fake Stripe server, an app pointed at it, a paid event with photos."""
import io
from pathlib import Path

import pytest
from PIL import Image

from phopy import create_app
from phopy.data import get_database
from phopy.extensions import get_link_signer
from phopy.services import links
from tests.conftest import add_files, db_rows, login, make_event, make_photographer, \
    make_test_config
from tests.fakes.stripe_server import SECRET_KEY, WEBHOOK_SECRET, FakeStripeServer, signed


@pytest.fixture
def stripe_server():
    """A fake Stripe API on 127.0.0.1 (free port)."""
    server = FakeStripeServer().start()
    yield server
    server.stop()


@pytest.fixture
def sales_app(tmp_path, stripe_server):
    """An app with Stripe set up against the fake server."""
    return create_app(make_test_config(tmp_path, STRIPE_SECRET_KEY=SECRET_KEY,
                                       STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                                       STRIPE_API_BASE=stripe_server.url))


def photo_file(folder, name, size=(2400, 1600), color=(30, 120, 200)):
    """A photo with a pattern (so a watermark shows) saved as JPEG."""
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 97):
        image.paste((250, 250, 250), (x, 0, x + 20, size[1]))
    path = Path(folder) / name
    image.save(path, format="JPEG", quality=90)
    return path


class Shop:
    """A photographer with an event of three photos, logged in on ``owner``; ``buyer``
    is another browser."""

    def __init__(self, app, tmp_path):
        self.app = app
        self.owner = app.test_client()
        self.buyer = app.test_client()
        self.photographer = make_photographer(app)
        self.event = make_event(app, self.photographer["id"], "Temple Run 2026")
        files = [photo_file(tmp_path, f"run{i}.jpg", color=(30 * i, 120, 200)) for i in (1, 2, 3)]
        add_files(app, self.event["id"], files, queue=False)
        self.photo_ids = [r["id"] for r in db_rows(
            app, "SELECT id FROM photos WHERE event_id = ? ORDER BY id", (self.event["id"],))]
        login(self.owner)

    def set_prices(self, **form):
        data = {"mode": "paid", "photo_price": "100", "provider": "stripe", **form}
        return self.owner.post(f"/dashboard/events/{self.event['id']}/sales/pricing", data=data)

    def result_token(self, ids=None):
        with self.app.app_context():
            return links.sign_photo_set(get_link_signer(self.app), self.event["id"],
                                        ids or self.photo_ids)

    def photo_url(self, photo_id, kind):
        with self.app.app_context():
            return f"/p/{links.sign_photo(get_link_signer(self.app), self.event['id'], photo_id)}/{kind}"

    def buy(self, photos=None, bundle=False, email="buyer@example.com", token=None):
        data = {"t": token or self.result_token(), "email": email,
                "photos": [str(p) for p in (photos or self.photo_ids[:1])]}
        if bundle:
            data["bundle"] = "1"
        return self.buyer.post(f"/e/{self.event['code']}/buy", data=data)

    def order_token(self, response):
        assert response.status_code == 303, response.data[:400]
        return response.headers["Location"].rsplit("/o/", 1)[1]

    def order(self, token):
        from phopy.sales.orders import hash_token
        return db_rows(self.app, "SELECT * FROM sales_orders WHERE token_hash = ?",
                       (hash_token(token),))[0]

    def deliver(self, event, client=None):
        body, headers = signed(event)
        return (client or self.buyer).post("/sales/stripe/webhook", data=body, headers=headers)

    def run(self, sql, params=()):
        conn = get_database(self.app).connect()
        try:
            return conn.execute(sql, params)
        finally:
            conn.close()


@pytest.fixture
def shop(sales_app, tmp_path):
    return Shop(sales_app, tmp_path)


def image_of(data):
    return Image.open(io.BytesIO(data))
