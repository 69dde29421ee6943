"""A photo deleted after it was sold: the buyer keeps what they paid for.

Phopy keeps a copy (``kept_key`` on the order's item, with the photo's file name)
when the photographer deletes a photo that a paid order still has open downloads
for; the order's page and ZIP serve that copy until the downloads end, and
``orders.prune`` deletes it with the order's other buyer data (``erase_at``, the day
the downloads end). The copy is the photo as its downloads were: with the event's
banner, when it has one, baked in. No automatic refund: the buyer got the photo they
paid for.
"""
import logging

from phopy.data import events as events_db
from phopy.data import sales as sales_db
from phopy.services import overlays
from phopy.services import photos as photo_service

log = logging.getLogger(__name__)


def kept_key(event_id, order_id, photo_id):
    """Storage key of a sold photo's copy kept for one order."""
    return f"sales/{event_id}/kept/{order_id}/{photo_id}"


@photo_service.before_photo_delete
def keep_sold_copy(conn, storage, config, photo):
    """Copy a photo about to be deleted for every paid order that can still download it."""
    from phopy.sales.orders import iso, now_utc
    open_orders = sales_db.open_orders_of_photo(conn, photo["id"], iso(now_utc()))
    if not open_orders:
        return 0
    data = photo_service.original_bytes(conn, config, photo)
    if data is None:
        data = storage.read(photo["storage_key"])
    event = events_db.get(conn, photo["event_id"])
    data = (overlays.bannered_bytes(storage, event, data, photo["id"]) if event else None) or data
    for order_id in open_orders:
        key = storage.save(kept_key(photo["event_id"], order_id, photo["id"]), data)
        sales_db.keep_item(conn, order_id, photo["id"], photo["filename"], key)
    log.info("photo %s deleted after it was sold: kept for %d orders", photo["id"],
             len(open_orders))
    return len(open_orders)


def as_photo(item):
    """The kept copy of an order's item, shaped like a photo row for the downloads."""
    return {"id": item["photo_id"], "storage_key": item["kept_key"],
            "filename": item["filename"] or f"photo-{item['photo_id']}.jpg",
            "width": None, "size_bytes": None, "source": None}
