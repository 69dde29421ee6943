"""A paid event shows watermarked, reduced previews and never hands out an original
before payment; a free event is served exactly as before."""
import io

from PIL import Image, ImageChops

from phopy.errors import FileTooLarge
from phopy.extensions import get_storage
from phopy.sales.previews import preview_key, render_preview
from tests.sales.conftest import image_of


def test_thumbnails_and_views_of_a_paid_event_are_watermarked_previews(shop):
    shop.set_prices()
    pid = shop.photo_ids[0]
    for kind in ("thumb", "view"):
        response = shop.buyer.get(shop.photo_url(pid, kind))
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        preview = image_of(response.data)
        assert max(preview.size) == 1200 and preview.size == (1200, 800)
    store = get_storage(shop.app)
    key = preview_key(shop.event["id"], pid)
    assert key == f"previews/{shop.event['id']}/{pid}.jpg" and store.exists(key)
    # the watermark changed the photo: compare with a plain reduction of the original
    original = Image.open(io.BytesIO(store.read(db_key(shop, pid)))).convert("RGB").resize(
        (1200, 800))
    diff = ImageChops.difference(original, preview.convert("RGB")).convert("L")
    marked = sum(diff.point(lambda v: 255 if v > 40 else 0).histogram()[255:])
    assert marked > 0.04 * 1200 * 800  # the text covers a good share of the photo


def db_key(shop, pid):
    from tests.conftest import db_rows
    return db_rows(shop.app, "SELECT storage_key FROM photos WHERE id = ?", (pid,))[0][
        "storage_key"]


def test_a_preview_is_made_once_and_then_read_from_storage(shop):
    shop.set_prices()
    pid = shop.photo_ids[1]
    first = shop.buyer.get(shop.photo_url(pid, "view")).data
    store, key = get_storage(shop.app), preview_key(shop.event["id"], pid)
    store.save(key, first[:-2] + b"\xff\xd9")  # mark the stored copy
    again = shop.buyer.get(shop.photo_url(pid, "thumb")).data
    assert again == store.read(key) == first[:-2] + b"\xff\xd9"


def test_originals_and_zips_of_a_paid_event_answer_403_before_payment(shop):
    shop.set_prices()
    pid = shop.photo_ids[0]
    assert shop.buyer.get(shop.photo_url(pid, "download")).status_code == 403
    zip_response = shop.buyer.get(f"/e/{shop.event['code']}/photos.zip?t={shop.result_token()}")
    assert zip_response.status_code == 403


def test_a_free_event_serves_thumbnails_and_originals_as_before(shop):
    pid = shop.photo_ids[0]
    thumb = image_of(shop.buyer.get(shop.photo_url(pid, "thumb")).data)
    assert max(thumb.size) == shop.app.config["THUMBNAIL_MAX_SIDE"]
    original = shop.buyer.get(shop.photo_url(pid, "download"))
    assert original.status_code == 200
    assert image_of(original.data).size == (2400, 1600)
    assert not get_storage(shop.app).exists(preview_key(shop.event["id"], pid))


def test_a_preview_checks_the_declared_pixels_before_decoding():
    big = io.BytesIO()
    Image.new("L", (8000, 8000)).save(big, format="PNG")
    try:
        render_preview(big.getvalue(), "x", 1200, max_pixels=20_000_000)
    except FileTooLarge:
        pass
    else:
        raise AssertionError("a 64-megapixel photo was decoded")


def test_previews_are_deleted_with_the_event(shop):
    shop.set_prices()
    shop.buyer.get(shop.photo_url(shop.photo_ids[0], "view"))
    store = get_storage(shop.app)
    assert store.exists(preview_key(shop.event["id"], shop.photo_ids[0]))
    response = shop.owner.post(f"/dashboard/events/{shop.event['id']}/delete")
    assert response.status_code in (302, 303)
    assert not store.exists(preview_key(shop.event["id"], shop.photo_ids[0]))
