"""Paying through Stripe, end to end: the real ``stripe`` library against the fake
Stripe server; a PaymentIntent with PromptPay, the signed webhook, redeliveries,
refunds, expiry."""
import io
import zipfile
from datetime import datetime, timedelta, timezone

from phopy.data import get_database
from phopy.sales import orders
from tests.conftest import db_rows
from tests.fakes.stripe_server import signed


def test_a_buyer_pays_by_promptpay_through_stripe_and_downloads_the_original(shop,
                                                                            stripe_server):
    shop.set_prices(photo_price="100")
    token = shop.order_token(shop.buy(photos=shop.photo_ids[:2]))
    order = shop.order(token)
    assert (order["status"], order["amount"], order["provider"]) == ("pending", 20000, "stripe")
    created = stripe_server.requests("/v1/payment_intents")[0]
    assert created["params"]["payment_method_types"] == ["promptpay"]
    assert created["params"]["amount"] == "20000" and created["params"]["currency"] == "thb"
    assert created["params"]["metadata"]["order_id"] == order["id"]
    assert created["idempotency_key"] == f"phopy-order-{order['id']}"
    page = shop.buyer.get(f"/o/{token}")
    assert b'id="order-qr"' in page.data and b"200 THB" in page.data
    qr = shop.buyer.get(f"/o/{token}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    # before payment: no original, no ZIP
    assert shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[0]}").status_code == 403
    assert shop.buyer.get(f"/o/{token}/photos.zip").status_code == 403

    status, event = stripe_server.pay(order["payment_ref"])
    assert status == 200
    assert shop.order(token)["status"] == "pending"  # paid only by the webhook
    assert shop.deliver(event).status_code == 200
    order = shop.order(token)
    assert order["status"] == "paid" and order["downloads_until"] > order["paid_at"]

    original = shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[0]}")
    assert original.status_code == 200
    from PIL import Image
    assert Image.open(io.BytesIO(original.data)).size == (2400, 1600)
    assert shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[2]}").status_code == 404  # not bought
    archive = zipfile.ZipFile(io.BytesIO(shop.buyer.get(f"/o/{token}/photos.zip").data))
    assert sorted(archive.namelist()) == ["run1.jpg", "run2.jpg"]
    counts = db_rows(shop.app, "SELECT photo_id, downloads FROM sales_order_items "
                               "WHERE order_id = ? ORDER BY photo_id", (order["id"],))
    assert [c["downloads"] for c in counts] == [2, 1]
    receipt = shop.buyer.get(f"/o/{token}/receipt")
    assert receipt.status_code == 200 and b"200 THB" in receipt.data
    assert order["payment_ref"].encode() in receipt.data


def test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing(shop, stripe_server):
    shop.set_prices()
    token = shop.order_token(shop.buy())
    _status, event = stripe_server.pay(shop.order(token)["payment_ref"])
    body, headers = signed(event, secret="whsec_wrong")
    assert shop.buyer.post("/sales/stripe/webhook", data=body,
                           headers=headers).status_code == 400
    body, headers = signed(event)
    assert shop.buyer.post("/sales/stripe/webhook", data=body + b" ",
                           headers=headers).status_code == 400  # body changed after signing
    assert shop.buyer.post("/sales/stripe/webhook", data=body).status_code == 400  # unsigned
    old = int((datetime.now(timezone.utc) - timedelta(hours=1)).timestamp())
    body, headers = signed(event, timestamp=old)
    assert shop.buyer.post("/sales/stripe/webhook", data=body,
                           headers=headers).status_code == 400  # replayed later
    assert shop.order(token)["status"] == "pending"
    assert db_rows(shop.app, "SELECT * FROM sales_webhook_events") == []


def test_a_redelivered_or_second_payment_event_unlocks_once(shop, stripe_server):
    shop.set_prices()
    token = shop.order_token(shop.buy())
    _status, event = stripe_server.pay(shop.order(token)["payment_ref"])
    first = shop.deliver(event).get_json()
    again = shop.deliver(event).get_json()
    assert (first["outcome"], again["outcome"]) == ("paid", "redelivery")
    paid_at = shop.order(token)["paid_at"]
    other = {**event, "id": event["id"] + "x"}  # another event for the same payment
    assert shop.deliver(other).get_json()["outcome"] == "already"
    assert shop.order(token)["paid_at"] == paid_at
    unknown = {**event, "id": "evt_unknown", "data": {"object": {
        **event["data"]["object"], "id": "pi_nobody"}}}
    assert shop.deliver(unknown).get_json()["outcome"] == "unknown"
    assert len(db_rows(shop.app, "SELECT * FROM sales_webhook_events")) == 3


def test_the_photographer_refunds_through_stripe_and_the_downloads_close(shop, stripe_server):
    shop.set_prices()
    token = shop.order_token(shop.buy())
    order = shop.order(token)
    _status, event = stripe_server.pay(order["payment_ref"])
    shop.deliver(event)
    response = shop.owner.post(f"/dashboard/events/{shop.event['id']}/orders/{order['id']}/refund")
    assert response.status_code == 302
    assert stripe_server.requests("/v1/refunds")[0]["params"] == {
        "payment_intent": order["payment_ref"]}
    assert shop.order(token)["status"] == "refunded"
    assert shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[0]}").status_code == 403
    # Stripe's charge.refunded webhook afterwards changes nothing more
    refunded = stripe_server.events("charge.refunded")[0]
    assert shop.deliver(refunded).get_json()["outcome"] == "already"
    sales = shop.owner.get(f"/dashboard/events/{shop.event['id']}/sales").get_data(as_text=True)
    assert "Refunded: 100 THB" in sales


def test_a_pending_order_expires_its_qr_cannot_be_paid_and_the_page_says_start_again(
        shop, stripe_server):
    shop.set_prices()
    token = shop.order_token(shop.buy())
    order = shop.order(token)
    conn = get_database(shop.app).connect()
    try:
        later = datetime.now(timezone.utc) + timedelta(minutes=31)
        assert orders.expire_due(conn, shop.app.config, now=later) == 1
    finally:
        conn.close()
    assert shop.order(token)["status"] == "expired"
    assert stripe_server.state.intents[order["payment_ref"]]["status"] == "canceled"
    status, body = stripe_server.pay(order["payment_ref"])
    assert status == 400 and "cannot be paid" in body["error"]["message"]
    assert b'id="order-expired"' in shop.buyer.get(f"/o/{token}").data
    assert shop.buyer.get(f"/o/{token}/qr.svg").status_code == 404


def test_an_order_already_paid_at_stripe_is_not_expired(shop, stripe_server):
    shop.set_prices()
    token = shop.order_token(shop.buy())
    stripe_server.pay(shop.order(token)["payment_ref"])  # the webhook is late
    conn = get_database(shop.app).connect()
    try:
        later = datetime.now(timezone.utc) + timedelta(minutes=31)
        assert orders.expire_due(conn, shop.app.config, now=later) == 0
    finally:
        conn.close()
    assert shop.order(token)["status"] == "pending"
    shop.deliver(stripe_server.events("payment_intent.succeeded")[0])
    assert shop.order(token)["status"] == "paid"


def test_the_bundle_and_tiers_price_the_order(shop, stripe_server):
    shop.set_prices(photo_price="100", bundle_price="150", tier1_photos="2", tier1_price="180")
    two = shop.order(shop.order_token(shop.buy(photos=shop.photo_ids[:2])))
    assert two["amount"] == 18000
    everything = shop.order(shop.order_token(shop.buy(bundle=True)))
    assert (everything["amount"], everything["kind"]) == (15000, "bundle")
    assert len(db_rows(shop.app, "SELECT * FROM sales_order_items WHERE order_id = ?",
                       (everything["id"],))) == 3


def test_photos_outside_the_signed_result_cannot_be_ordered(shop, stripe_server):
    shop.set_prices()
    token = shop.result_token(shop.photo_ids[:1])
    response = shop.buy(photos=[shop.photo_ids[1]], token=token)
    assert response.status_code == 404
    assert shop.buy(photos=[shop.photo_ids[0]], token="forged").status_code == 404
    assert db_rows(shop.app, "SELECT * FROM sales_orders") == []


def test_a_stripe_order_needs_an_e_mail(shop, stripe_server):
    shop.set_prices()
    response = shop.buy(email="")
    assert response.status_code == 400 and b'id="buy-error"' in response.data
    assert shop.buy(email="not-an-address").status_code == 400
    assert db_rows(shop.app, "SELECT * FROM sales_orders") == []
