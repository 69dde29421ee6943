"""Event banners: a PNG (transparency kept) composited onto every download.

The photographer uploads the banner on the dashboard and picks where it sits.
Originals are never changed: each download (web or LINE, single or ZIP) is
rendered on the fly from the original and the banner.
"""
import io
import logging

from PIL import Image

from phopy.data import overlays as overlays_db
from phopy.errors import N_, ValidationError
from phopy.faces.images import open_image, sniff_format

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


def banner_key(event_id):
    """Storage key of an event's banner."""
    return f"banners/{event_id}/banner.png"


def save_banner(conn, storage, event_id, data, position):
    """Store the event's banner PNG and its position (either may be None: keep)."""
    position = position or DEFAULT_POSITION
    if position not in POSITIONS:
        raise ValidationError(N_("Choose where the banner sits."), field="banner_position")
    key = None
    if data:
        if len(data) > MAX_BANNER_BYTES or sniff_format(data) != "png":
            raise ValidationError(N_("The banner must be a PNG file of at most 5 MB."),
                                  field="banner")
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
        except Exception:
            raise ValidationError(N_("The banner must be a PNG file of at most 5 MB."),
                                  field="banner")
        key = storage.save(banner_key(event_id), data)
    overlays_db.set_banner(conn, event_id, key, position)


def remove_banner(conn, storage, event_id):
    """Forget the event's banner."""
    overlays_db.clear_banner(conn, event_id)
    storage.delete(banner_key(event_id))


def composite(storage, photo, event):
    """The photo's bytes as downloaded: the original, or with the event's banner on it.

    Returns (bytes, mimetype, download name).
    """
    from phopy.services.photos import media_of_bytes
    original = storage.path(photo["storage_key"])
    key = event.get("banner_key")

    def as_stored():  # the type and name of its real format, never the uploaded name's
        data = original.read_bytes()
        return (data, *media_of_bytes(data, photo["filename"]))

    if not key or not storage.exists(key):
        return as_stored()
    try:
        image = open_image(original)
    except Exception:  # unreadable photo: hand out the original as it is
        return as_stored()
    with Image.open(storage.path(key)) as raw:
        banner = raw.convert("RGBA")
    share, horizontal, vertical = POSITIONS.get(event.get("banner_position"),
                                                POSITIONS[DEFAULT_POSITION])
    width = max(1, int(image.width * share))
    height = max(1, round(banner.height * width / banner.width))
    if height > image.height:
        height = image.height
        width = max(1, round(banner.width * height / banner.height))
    banner = banner.resize((width, height), Image.LANCZOS)
    margin = 0 if share >= 1 else int(min(image.size) * 0.02)
    x = {"left": margin, "right": image.width - width - margin,
         "center": (image.width - width) // 2}[horizontal]
    y = margin if vertical == "top" else image.height - height - margin
    image = image.convert("RGBA")
    image.alpha_composite(banner, (x, y))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=92)
    name = media_of_bytes(b"\xff\xd8\xff", photo["filename"])[1]  # the stem, as a .jpg
    return out.getvalue(), "image/jpeg", name
