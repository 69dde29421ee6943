"""The attendee's journey on a paid event, through the real pages and a real face search:
find your photos, see watermarked previews and no download, buy, pay through the fake
Stripe, download the original. The same search on a free event still offers downloads."""
import re

from phopy.extensions import get_storage
from tests.conftest import ENGINE_NAMES, add_files, db_rows, file_upload, index_all, use_engine

PHOTOS = ("group_photos/fr_two_people.jpg", "group_photos/fr_obama_and_biden.jpg",
          "group_photos/fr_kit_with_rose.jpg")
SELFIE = "face_recognition_examples/obama.jpg"


def search(client, event, faces_dir):
    response = client.post(f"/e/{event['code']}",
                           data={"selfies": [file_upload(faces_dir / SELFIE)]},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def test_find_preview_buy_pay_and_download_on_a_paid_event(shop, stripe_server, engine_for,
                                                           faces_dir):
    use_engine(shop.app, *engine_for(ENGINE_NAMES[0]))
    event = shop.event
    add_files(shop.app, event["id"], [faces_dir / p for p in PHOTOS])
    assert index_all(shop.app) == 1
    free = search(shop.app.test_client(), event, faces_dir)
    assert 'class="dl"' in free and 'id="zip-link"' in free and 'id="checkout"' not in free

    shop.set_prices(photo_price="80")
    page = search(shop.buyer, event, faces_dir)
    assert 'id="checkout"' in page and 'class="dl"' not in page and 'id="zip-link"' not in page
    thumbs = re.findall(r'src="(/p/[^"]+/thumb)"', page)
    assert thumbs
    preview = shop.buyer.get(thumbs[0])
    assert preview.status_code == 200
    assert shop.buyer.get(thumbs[0].replace("/thumb", "/download")).status_code == 403
    found = [int(p) for p in re.findall(r'name="photos" value="(\d+)"', page)]
    names = {r["id"]: r["filename"] for r in db_rows(
        shop.app, "SELECT id, filename FROM photos WHERE event_id = ?", (event["id"],))}
    assert {names[p] for p in found} == {"fr_two_people.jpg", "fr_obama_and_biden.jpg"}
    token = re.search(r'name="t" value="([^"]+)"', page).group(1)

    order_token = shop.order_token(shop.buy(photos=found[:1], token=token))
    order = shop.order(order_token)
    assert order["amount"] == 8000
    _status, paid = stripe_server.pay(order["payment_ref"])
    shop.deliver(paid)
    page = shop.buyer.get(f"/o/{order_token}").get_data(as_text=True)
    link = re.search(r'href="(/o/[^"]+/photos/\d+)"', page).group(1)
    original = shop.buyer.get(link)
    assert original.status_code == 200
    key = db_rows(shop.app, "SELECT storage_key FROM photos WHERE id = ?", (found[0],))[0][
        "storage_key"]
    assert original.data == get_storage(shop.app).read(key)  # the original itself
