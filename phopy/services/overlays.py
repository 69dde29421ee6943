"""Event banners: a PNG (transparency kept) composited onto every download.

The photographer uploads the banner on the dashboard and picks where it sits.
Originals are never changed. A photo's bannered copy is rendered once per
photo and banner version and kept in storage (``renditions/<event>/``), so a
download, web or LINE, single or in a ZIP, is a stored object read after the
first. Everything goes through the storage interface (keys and bytes), so any
machine renders and serves with the file backend or S3 alike.

Rendering is bounded: a banner's declared pixels are checked before it is
decoded (the same guard as photos) and it is stored at most
``MAX_BANNER_SIDE`` pixels a side; the photo is decoded once and the banner
is composited band by band, so no full-size RGBA copy exists; one render
runs at a time per process per slot (``render_slots``), others wait a while
and then get "busy" (503), and downloads of a photo being rendered wait for
that render instead of starting their own.
"""
import hashlib
import io
import logging
import threading

from PIL import Image

from phopy.data import overlays as overlays_db
from phopy.errors import N_, FileTooLarge, ImageDecodeError, Message, ServerBusy, ValidationError
from phopy.faces.images import (DEFAULT_MAX_PIXELS, check_dimensions, image_size, open_image,
                                sniff_format)
from phopy.services.text import file_stem

log = logging.getLogger(__name__)

# position -> (share of the photo's width the banner takes, horizontal, vertical)
POSITIONS = {
    "bottom-right": (0.3, "right", "bottom"),
    "bottom-left": (0.3, "left", "bottom"),
    "top-right": (0.3, "right", "top"),
    "top-left": (0.3, "left", "top"),
    "bottom": (1.0, "center", "bottom"),
    "top": (1.0, "center", "top"),
}
DEFAULT_POSITION = "bottom-right"
MAX_BANNER_BYTES = 5 * 1024 * 1024
MAX_BANNER_SIDE = 4096     # a stored banner is at most this many pixels a side
BAND_ROWS = 256            # rows composited at a time
JPEG_QUALITY = 92
BAD_BANNER = N_("The banner must be a PNG file of at most 5 MB.")

_slots_lock = threading.Lock()
_slots = {}
_render_locks = {}  # rendition key -> [lock, requests using it]
_render_locks_lock = threading.Lock()


def banner_key(event_id):
    """Storage key of an event's banner."""
    return f"banners/{event_id}/banner.png"


def renditions_prefix(event_id):
    """The storage folder of an event's bannered copies."""
    return f"renditions/{event_id}"


def save_banner(conn, storage, event_id, data, position, max_pixels=DEFAULT_MAX_PIXELS):
    """Store the event's banner PNG and its position (either may be None: keep).

    The PNG's declared pixels are checked before it is decoded (at most
    ``max_pixels``, as for photos); one larger than ``MAX_BANNER_SIDE`` a side
    is stored scaled down to that.
    """
    position = position or DEFAULT_POSITION
    if position not in POSITIONS:
        raise ValidationError(N_("Choose where the banner sits."), field="banner_position")
    key = None
    if data:
        data = _checked_banner(data, max_pixels)
        key = storage.save(banner_key(event_id), data)
    overlays_db.set_banner(conn, event_id, key, position)
    storage.delete_prefix(renditions_prefix(event_id))  # made with the old banner or place


def _checked_banner(data, max_pixels):
    if len(data) > MAX_BANNER_BYTES or sniff_format(data) != "png":
        raise ValidationError(BAD_BANNER, field="banner")
    try:
        check_dimensions(data, max_pixels)
    except FileTooLarge:
        raise FileTooLarge(Message(N_("The banner has too many pixels: at most %(mp)d "
                                      "megapixels are accepted."), mp=max_pixels // 1_000_000),
                           field="banner") from None
    except Exception:
        raise ValidationError(BAD_BANNER, field="banner") from None
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if max(img.size) <= MAX_BANNER_SIDE:
                return data
            small = img.convert("RGBA")
    except Exception:
        raise ValidationError(BAD_BANNER, field="banner") from None
    small.thumbnail((MAX_BANNER_SIDE, MAX_BANNER_SIDE), Image.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG")
    return out.getvalue()


def remove_banner(conn, storage, event_id):
    """Forget the event's banner and the copies made with it."""
    overlays_db.clear_banner(conn, event_id)
    storage.delete(banner_key(event_id))
    storage.delete_prefix(renditions_prefix(event_id))


def forget_renditions(storage, event_id, content_hash):
    """Delete the bannered copies of one photo (it was deleted)."""
    for key, _mtime in list(storage.list_files(renditions_prefix(event_id))):
        if key.rpartition("/")[2].startswith(f"{content_hash}-"):
            storage.delete(key)


def render_slots(size):
    """This process's semaphore for renders, ``size`` at once (one per size asked)."""
    with _slots_lock:
        if size not in _slots:
            _slots[size] = threading.BoundedSemaphore(max(1, int(size)))
        return _slots[size]


def banner_applies(storage, event):
    """Whether the event has a banner to put on its downloads."""
    return bool(event.get("banner_key")) and storage.exists(event["banner_key"])


def download_name(photo):
    """A bannered download's name: the uploaded stem, as a .jpg."""
    return f"{file_stem(photo['filename'])}.jpg"


def bannered_key(storage, photo, event, slots, wait_seconds):
    """The storage key of the photo's bannered copy, rendered now if it is not stored yet.

    None when no banner applies or the photo cannot be decoded (then the
    original is handed out as it is). Raises ServerBusy when no render slot
    frees up within ``wait_seconds``.
    """
    if not banner_applies(storage, event):
        return None
    key = _rendition_key(storage, photo, event)
    if storage.exists(key):
        return key
    with _render_locks_lock:  # one lock per copy, shared by the requests that want it
        entry = _render_locks.setdefault(key, [threading.Lock(), 0])
        entry[1] += 1
    lock = entry[0]
    try:
        if not lock.acquire(timeout=wait_seconds):  # another request renders this copy
            raise _busy()
        try:
            if storage.exists(key):
                return key
            if not slots.acquire(timeout=wait_seconds):
                raise _busy()
            try:
                return key if _render(storage, photo, event, key) else None
            finally:
                slots.release()
        finally:
            lock.release()
    finally:
        with _render_locks_lock:
            entry[1] -= 1
            if not entry[1]:
                _render_locks.pop(key, None)


def _busy():
    return ServerBusy(N_("Many downloads are being prepared right now. Please try again in a "
                         "few seconds."))


def _rendition_key(storage, photo, event):
    """Key of the copy for this photo and this banner version (key, place, size, time)."""
    size, mtime = storage.stat(event["banner_key"])
    version = hashlib.sha256(f"{event['banner_key']}|{event.get('banner_position')}|"
                             f"{mtime}|{size}".encode()).hexdigest()[:16]
    return f"{renditions_prefix(event['id'])}/{photo['content_hash']}-{version}.jpg"


def _render(storage, photo, event, key):
    """Store the bannered JPEG under ``key``; False when the photo is undecodable."""
    data = bannered_bytes(storage, event, storage.read(photo["storage_key"]), photo["id"])
    if data is None:
        return False
    storage.save(key, data)  # atomic on every backend
    return True


def bannered_bytes(storage, event, data, photo_id=None):
    """The photo ``data`` with the event's banner on it, as JPEG bytes; None when the
    event has no banner or the photo cannot be decoded (handed out as it is)."""
    if not banner_applies(storage, event):
        return None
    try:
        image = open_image(data)
    except (ImageDecodeError, FileTooLarge) as exc:
        log.info("photo %s not bannered, handed out as it is: %s", photo_id, exc)
        return None
    banner = _load_banner(event["banner_key"], storage.read(event["banner_key"]))
    if banner is None:
        return None
    _composite_in_bands(image, banner, event.get("banner_position"))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _load_banner(key, data):
    """The stored banner as RGBA; None (with a warning) for one too large to decode
    safely (stored before banners were checked) or unreadable."""
    try:
        width, height = image_size(data)
        if width * height > MAX_BANNER_SIDE * MAX_BANNER_SIDE:
            log.warning("banner %s is %dx%d: upload it again to use it", key, width, height)
            return None
        with Image.open(io.BytesIO(data)) as raw:
            return raw.convert("RGBA")
    except Exception as exc:
        log.warning("banner %s unreadable: %s", key, exc)
        return None


def _composite_in_bands(image, banner, position):
    """Put the banner on the RGB image in place, ``BAND_ROWS`` rows at a time."""
    share, horizontal, vertical = POSITIONS.get(position, POSITIONS[DEFAULT_POSITION])
    width = max(1, int(image.width * share))
    height = max(1, round(banner.height * width / banner.width))
    if height > image.height:
        height = image.height
        width = max(1, round(banner.width * height / banner.height))
    margin = 0 if share >= 1 else int(min(image.size) * 0.02)
    x = {"left": margin, "right": image.width - width - margin,
         "center": (image.width - width) // 2}[horizontal]
    y = margin if vertical == "top" else image.height - height - margin
    scale = banner.height / height
    for top in range(0, height, BAND_ROWS):
        rows = min(BAND_ROWS, height - top)
        piece = banner.resize((width, rows), Image.LANCZOS,
                              box=(0, top * scale, banner.width, (top + rows) * scale))
        box = (x, y + top, x + width, y + top + rows)
        region = image.crop(box).convert("RGBA")
        region.alpha_composite(piece)
        image.paste(region.convert("RGB"), box[:2])
