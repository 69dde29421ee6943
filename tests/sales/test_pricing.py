"""Prices per event: amounts in satang, tiers and bundles, the dashboard form and its
errors, the prices on the public page."""
import pytest

from phopy.errors import ValidationError
from phopy.sales import pricing
from tests.conftest import db_rows


@pytest.mark.parametrize("text, satang", [("120", 12000), ("99.50", 9950), ("1,200.05", 120005),
                                          (" 0.01 ", 1), ("", None)])
def test_baht_become_satang(text, satang):
    assert pricing.parse_baht(text, "photo_price") == satang


@pytest.mark.parametrize("text", ["0", "-5", "1.234", "abc", "1e3x", "NaN", "inf"])
def test_a_price_of_zero_negative_or_not_a_number_is_refused(text):
    with pytest.raises(ValidationError):
        pricing.parse_baht(text, "photo_price")


def test_satang_are_shown_as_baht():
    assert pricing.format_baht(12000) == "120"
    assert pricing.format_baht(120005) == "1,200.05"


def test_an_order_is_charged_the_cheapest_way():
    offer = {"photo_price": 10000, "bundle_price": 35000,
             "tiers": [{"photos": 3, "price": 25000}, {"photos": 5, "price": 38000}]}
    assert pricing.quote(offer, 1) == 10000
    assert pricing.quote(offer, 3) == 25000
    assert pricing.quote(offer, 4) == 35000            # 3 for 250 + one at 100
    assert pricing.quote(offer, 6) == 48000            # 5 for 380 + one (not 3 + 3 = 500)
    assert pricing.quote(offer, 6, bundle=True) == 35000
    assert pricing.quote(offer, 1, bundle=True) == 10000  # the bundle never costs more
    with pytest.raises(ValidationError):
        pricing.quote(offer, 0)


def test_an_amount_is_split_over_its_photos_to_the_satang():
    assert pricing.split(10001, [7, 8, 9]) == [(7, 3335), (8, 3333), (9, 3333)]
    assert sum(a for _p, a in pricing.split(25000, [1, 2, 3])) == 25000


@pytest.mark.parametrize("form, field", [
    ({"photo_price": "0"}, "photo_price"),
    ({"photo_price": "-20"}, "photo_price"),
    ({"photo_price": ""}, "photo_price"),
    ({"bundle_price": "80"}, "bundle_price"),                       # not above one photo
    ({"tier1_photos": "3", "tier1_price": "300"}, "tiers"),         # dearer than 3 x 100
    ({"tier1_photos": "3", "tier1_price": ""}, "tiers"),
    ({"provider": "promptpay", "promptpay_id": "12345"}, "promptpay_id"),
])
def test_the_pricing_form_says_what_is_wrong_and_saves_nothing(shop, form, field):
    response = shop.set_prices(**form)
    assert response.status_code == 400
    assert b'id="pricing-error"' in response.data and f'data-field="{field}"'.encode() in \
        response.data
    assert db_rows(shop.app, "SELECT * FROM sales_pricing") == []


def test_prices_saved_show_on_the_event_page_before_anyone_searches(shop):
    public = shop.buyer.get(f"/e/{shop.event['code']}")
    assert b'id="sales-offer"' not in public.data  # free: as before
    response = shop.set_prices(photo_price="120", bundle_price="300", tier1_photos="3",
                               tier1_price="250")
    assert response.status_code == 302
    row = db_rows(shop.app, "SELECT * FROM sales_pricing")[0]
    assert (row["photo_price"], row["bundle_price"], row["provider"]) == (12000, 30000, "stripe")
    assert db_rows(shop.app, "SELECT photos, price FROM sales_tiers") == [
        {"photos": 3, "price": 25000}]
    page = shop.buyer.get(f"/e/{shop.event['code']}").get_data(as_text=True)
    assert "120 THB a photo" in page and "3 photos for 250 THB" in page
    assert "All your photos for 300 THB" in page
    sales_page = shop.owner.get(f"/dashboard/events/{shop.event['id']}/sales")
    assert b'value="120"' in sales_page.data and b'value="250"' in sales_page.data


def test_an_event_made_free_again_serves_downloads_as_before(shop):
    shop.set_prices()
    assert shop.buyer.get(shop.photo_url(shop.photo_ids[0], "download")).status_code == 403
    assert shop.owner.post(f"/dashboard/events/{shop.event['id']}/sales/pricing",
                           data={"mode": "free"}).status_code == 302
    assert db_rows(shop.app, "SELECT * FROM sales_pricing") == []
    assert shop.buyer.get(shop.photo_url(shop.photo_ids[0], "download")).status_code == 200


def test_another_photographer_cannot_see_or_price_the_event(shop):
    from tests.conftest import login, make_photographer
    make_photographer(shop.app, "bob@example.com")
    other = shop.app.test_client()
    login(other, "bob@example.com")
    assert other.get(f"/dashboard/events/{shop.event['id']}/sales").status_code == 404
    assert other.post(f"/dashboard/events/{shop.event['id']}/sales/pricing",
                      data={"mode": "paid", "photo_price": "100",
                            "provider": "stripe"}).status_code == 404
    assert db_rows(shop.app, "SELECT * FROM sales_pricing") == []
