"""Buyers' personal data (e-mail, transfer slip) is erased at a date: when the order's
downloads end, a day after it expired or was rejected, 30 days after an order that
was never settled; an event's deletion takes its orders and slips at once."""
import io
from datetime import datetime, timedelta, timezone

from phopy.data import get_database
from phopy.extensions import get_storage
from phopy.jobs.registry import get_kind
from phopy.jobs.schedule import get_entry
from phopy.sales import orders
from tests.conftest import db_rows
from tests.sales.test_promptpay import promptpay_order, slip_png


def prune(shop, **delta):
    conn = get_database(shop.app).connect()
    try:
        return orders.prune(conn, get_storage(shop.app),
                            now=datetime.now(timezone.utc) + timedelta(**delta))
    finally:
        conn.close()


def test_a_paid_orders_email_is_erased_when_its_downloads_end(shop, stripe_server):
    shop.set_prices()
    token = shop.order_token(shop.buy(email="buyer@example.com"))
    _s, event = stripe_server.pay(shop.order(token)["payment_ref"])
    shop.deliver(event)
    order = shop.order(token)
    assert order["erase_at"] == order["downloads_until"]
    assert prune(shop, days=29) == 0 and shop.order(token)["email"] == "buyer@example.com"
    assert prune(shop, days=31) == 1
    order = shop.order(token)
    assert order["email"] is None and order["erased_at"] is not None
    assert (order["status"], order["amount"]) == ("paid", 10000)  # the sums stay


def test_a_rejected_orders_slip_is_deleted_a_day_later(shop):
    token, order = promptpay_order(shop)
    shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(slip_png()), "s.png")},
                    content_type="multipart/form-data")
    key = shop.order(token)["slip_key"]
    shop.owner.post(f"/dashboard/events/{shop.event['id']}/orders/{order['id']}/reject")
    store = get_storage(shop.app)
    assert prune(shop, hours=12) == 0 and store.exists(key)
    assert prune(shop, hours=25) == 1
    assert not store.exists(key) and shop.order(token)["slip_key"] is None


def test_a_slip_nobody_reviewed_is_deleted_after_30_days(shop):
    token, _order = promptpay_order(shop)
    shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(slip_png()), "s.png")},
                    content_type="multipart/form-data")
    key = shop.order(token)["slip_key"]
    assert prune(shop, days=29) == 0
    assert prune(shop, days=31) == 1
    assert not get_storage(shop.app).exists(key)
    assert shop.order(token)["status"] == "expired"


def test_deleting_the_event_deletes_its_orders_and_slips(shop):
    token, _order = promptpay_order(shop)
    shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(slip_png()), "s.png")},
                    content_type="multipart/form-data")
    key = shop.order(token)["slip_key"]
    shop.owner.post(f"/dashboard/events/{shop.event['id']}/delete")
    assert db_rows(shop.app, "SELECT * FROM sales_orders") == []
    assert db_rows(shop.app, "SELECT * FROM sales_order_items") == []
    assert not get_storage(shop.app).exists(key)


def test_the_jobs_are_declared_and_scheduled(sales_app):
    assert get_kind("sales_expire") and get_kind("sales_prune")
    assert get_entry("sales-expire").interval(sales_app.config) == 60
    assert get_entry("sales-prune").interval(sales_app.config) == 3600
