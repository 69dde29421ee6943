"""Direct PromptPay: the EMV QR payload (checked against the format: tags, lengths, CRC),
the transfer slip, the photographer's confirm or reject."""
import binascii
import io

import pytest
from PIL import Image

from phopy.extensions import get_storage
from phopy.sales.promptpay import payload
from tests.conftest import db_rows

PROMPTPAY_ID = "0812345678"


def parse_emv(text):
    """EMV QR tag-length-value fields -> {tag: value}, checking every length."""
    fields, i = {}, 0
    while i < len(text):
        tag, length = text[i:i + 2], int(text[i + 2:i + 4])
        value = text[i + 4:i + 4 + length]
        assert len(value) == length, (tag, length, value)
        fields[tag] = value
        i += 4 + length
    assert i == len(text)
    return fields


@pytest.mark.parametrize("target, kind, value", [
    ("0812345678", "01", "0066812345678"),
    ("1234567890123", "02", "1234567890123"),
    ("123456789012345", "03", "123456789012345"),
])
def test_the_payload_is_an_emv_qr_with_promptpay_amount_and_a_valid_crc(target, kind, value):
    text = payload(target, 12050)
    fields = parse_emv(text)
    assert fields["00"] == "01" and fields["01"] == "12"   # dynamic: it has an amount
    merchant = parse_emv(fields["29"])
    assert merchant == {"00": "A000000677010111", kind: value}
    assert (fields["53"], fields["54"], fields["58"]) == ("764", "120.50", "TH")
    # CRC-16/CCITT-FALSE over everything up to and including "6304"
    assert text[-8:-4] == "6304"
    assert fields["63"] == f"{binascii.crc_hqx(text[:-4].encode(), 0xFFFF):04X}"
    # and the library builds the same payload again from the decoded fields
    assert payload(target, int(fields["54"].replace(".", ""))) == text


def test_a_damaged_payload_fails_the_crc():
    text = payload(PROMPTPAY_ID, 10000)
    damaged = text[:40] + ("1" if text[40] != "1" else "2") + text[41:]
    assert damaged[-4:] != f"{binascii.crc_hqx(damaged[:-4].encode(), 0xFFFF):04X}"


def slip_png(size=(600, 900)):
    out = io.BytesIO()
    Image.new("RGB", size, (240, 240, 255)).save(out, format="PNG")
    return out.getvalue()


def promptpay_order(shop):
    response = shop.set_prices(provider="promptpay", promptpay_id="081-234-5678")
    assert response.status_code == 302
    token = shop.order_token(shop.buy(email=""))  # the e-mail is optional here
    return token, shop.order(token)


def test_a_buyer_pays_by_slip_and_the_photographer_confirms(shop):
    token, order = promptpay_order(shop)
    assert order["provider"] == "promptpay" and order["email"] is None
    fields = parse_emv(order["payment_qr"])
    assert fields["54"] == "100.00" and parse_emv(fields["29"])["01"] == "0066812345678"
    page = shop.buyer.get(f"/o/{token}")
    assert b'id="slip-form"' in page.data
    response = shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(slip_png()),
                                                                    "slip.png")},
                               content_type="multipart/form-data")
    assert response.status_code == 303
    order = shop.order(token)
    assert order["slip_key"] == f"slips/{shop.event['id']}/{order['id']}.jpg"
    stored = get_storage(shop.app).read(order["slip_key"])
    assert Image.open(io.BytesIO(stored)).format == "JPEG"  # re-encoded, metadata dropped
    assert b'id="order-review"' in shop.buyer.get(f"/o/{token}").data
    # the slip is the photographer's to see, nobody else's
    slip_url = f"/dashboard/events/{shop.event['id']}/orders/{order['id']}/slip.jpg"
    assert shop.buyer.get(slip_url).status_code in (302, 401)
    assert shop.owner.get(slip_url).status_code == 200
    sales = shop.owner.get(f"/dashboard/events/{shop.event['id']}/sales")
    assert b"Slip to check" in sales.data
    shop.owner.post(f"/dashboard/events/{shop.event['id']}/orders/{order['id']}/confirm")
    assert shop.order(token)["status"] == "paid"
    assert shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[0]}").status_code == 200


def test_the_photographer_rejects_a_slip(shop):
    token, order = promptpay_order(shop)
    shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(slip_png()), "s.png")},
                    content_type="multipart/form-data")
    shop.owner.post(f"/dashboard/events/{shop.event['id']}/orders/{order['id']}/reject")
    assert shop.order(token)["status"] == "rejected"
    assert b'id="order-rejected"' in shop.buyer.get(f"/o/{token}").data
    assert shop.buyer.get(f"/o/{token}/photos/{shop.photo_ids[0]}").status_code == 403
    # a rejected order cannot be confirmed afterwards
    shop.owner.post(f"/dashboard/events/{shop.event['id']}/orders/{order['id']}/confirm")
    assert shop.order(token)["status"] == "rejected"


@pytest.mark.parametrize("data", [b"not an image", b"", slip_png((6000, 6000))])
def test_a_slip_that_is_not_a_readable_small_image_is_refused(shop, data):
    token, _order = promptpay_order(shop)
    response = shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(data), "s.png")},
                               content_type="multipart/form-data")
    assert response.status_code == 303 and "error=" in response.headers["Location"]
    assert shop.order(token)["slip_key"] is None
    assert list(get_storage(shop.app).list(f"slips/{shop.event['id']}")) == []


def test_a_stripe_order_takes_no_slip(shop, stripe_server):
    shop.set_prices()
    token = shop.order_token(shop.buy())
    shop.buyer.post(f"/o/{token}/slip", data={"slip": (io.BytesIO(slip_png()), "s.png")},
                    content_type="multipart/form-data")
    assert shop.order(token)["slip_key"] is None
    assert db_rows(shop.app, "SELECT COUNT(*) AS n FROM sales_orders")[0]["n"] == 1
