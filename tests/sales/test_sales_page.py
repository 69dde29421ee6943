"""The photographer's numbers: the Sales page, the CSV and the keyed REST call."""
import csv
import io

from tests.web.api_helpers import make_key


def sold(shop, stripe_server, photos):
    token = shop.order_token(shop.buy(photos=photos))
    _s, event = stripe_server.pay(shop.order(token)["payment_ref"])
    shop.deliver(event)
    return shop.order(token)


def test_revenue_per_event_and_photo_csv_and_the_rest_api(shop, stripe_server):
    shop.set_prices(photo_price="100")
    first = sold(shop, stripe_server, shop.photo_ids[:2])
    sold(shop, stripe_server, shop.photo_ids[:1])
    shop.order_token(shop.buy(photos=shop.photo_ids[2:]))  # left pending
    page = shop.owner.get(f"/dashboard/events/{shop.event['id']}/sales").get_data(as_text=True)
    assert "Revenue: 300 THB from 2 paid orders" in page
    assert page.count('class="order-row"') == 3
    rows = list(csv.DictReader(io.StringIO(shop.owner.get(
        f"/dashboard/events/{shop.event['id']}/orders.csv").get_data(as_text=True))))
    assert sorted(r["status"] for r in rows) == ["paid", "paid", "pending"]
    assert {r["id"]: r["amount_thb"] for r in rows}[first["id"]] == "200"
    _row, key = make_key(shop.app, shop.photographer["id"])
    api = shop.buyer.get(f"/api/events/{shop.event['id']}/orders?per_page=2",
                         headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 200
    body = api.get_json()
    assert (body["total"], body["pages"], len(body["items"])) == (3, 2, 2)
    assert all(isinstance(item["amount"], int) for item in body["items"])
    assert shop.buyer.get(f"/api/events/{shop.event['id']}/orders").status_code == 401
    assert "run1.jpg" in page and "200 THB" in page  # per photo: 100 + 100


def test_no_one_else_reads_the_orders(shop, stripe_server):
    from tests.conftest import make_photographer
    other = make_photographer(shop.app, "bob@example.com")
    _row, key = make_key(shop.app, other["id"])
    response = shop.buyer.get(f"/api/events/{shop.event['id']}/orders",
                              headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404


def test_the_numbers_reach_metrics(shop, stripe_server):
    shop.set_prices(photo_price="100")
    sold(shop, stripe_server, shop.photo_ids[:2])
    shop.app.config["METRICS_TOKEN"] = "m-token"
    text = shop.buyer.get("/metrics", headers={"Authorization": "Bearer m-token"}).get_data(
        as_text=True)
    assert 'phopy_sales_orders{status="paid"} 1.0' in text
    assert 'phopy_sales_amount_satang{status="paid"} 20000.0' in text
    assert 'phopy_sales_orders{status="refunded"} 0.0' in text
