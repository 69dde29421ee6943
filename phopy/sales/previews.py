"""Watermarked, reduced previews: what a paid event shows instead of its photos.

A preview is the photo at most ``SALES_PREVIEW_MAX_SIDE`` (1200) pixels on its long
side with the event's name and "PREVIEW" written across it in diagonal rows,
made once per photo and kept in storage as ``previews/<event>/<photo>.jpg``
(deleted with the event). The original is decoded through the project's
guarded decoder: its declared pixels are checked before any pixel is decoded,
and JPEGs are decoded at a reduced size. Renders share the download render
slots (``DOWNLOAD_RENDERS`` per process), so a burst of previews waits instead
of decoding many photos at once.
"""
import io
import logging
import math

from PIL import Image, ImageDraw, ImageFont

from phopy.errors import N_, NotFound, ServerBusy
from phopy.faces.images import check_dimensions, decode_image
from phopy.services.overlays import render_slots

log = logging.getLogger(__name__)
JPEG_QUALITY = 80
WAIT_SECONDS = 30


def preview_key(event_id, photo_id):
    """Storage key of a photo's preview."""
    return f"previews/{event_id}/{int(photo_id)}.jpg"


def ensure_preview(storage, config, event, photo):
    """The storage key of the photo's preview, rendered now if it is not stored yet.

    NotFound when the original cannot be read; ServerBusy when no render slot
    frees up in time."""
    key = preview_key(event["id"], photo["id"])
    if storage.exists(key):
        return key
    slots = render_slots(config["DOWNLOAD_RENDERS"])
    if not slots.acquire(timeout=WAIT_SECONDS):
        raise ServerBusy(N_("Many downloads are being prepared right now. Please try again "
                            "in a few seconds."))
    try:
        if storage.exists(key):
            return key
        data = render_preview(storage.read(photo["storage_key"]), event["name"],
                              config["SALES_PREVIEW_MAX_SIDE"], config["MAX_PHOTO_PIXELS"])
        storage.save(key, data)
    except (NotFound, ServerBusy):
        raise
    except Exception as exc:
        log.info("no preview for photo %s: %s", photo["id"], exc)
        raise NotFound(N_("This photo could not be read.")) from None
    finally:
        slots.release()
    return key


def render_preview(original, text, max_side, max_pixels):
    """JPEG bytes: the photo reduced to ``max_side`` with ``text`` watermarked across it."""
    check_dimensions(original, max_pixels)
    image, _size = decode_image(original, max_side=max_side, max_pixels=max_pixels)
    return _jpeg(watermark(image, text))


def watermark(image, text):
    """The RGB image with rows of semi-transparent '<text> · PREVIEW' across it, turned 30°."""
    label = f"{text} · PREVIEW" if text else "PREVIEW"
    size = max(14, min(image.size) // 14)
    font = ImageFont.load_default(size=size)
    diagonal = int(math.hypot(*image.size)) + size * 4
    layer = Image.new("L", (diagonal, diagonal), 0)
    draw = ImageDraw.Draw(layer)
    step = int(size * 3.2)
    width = max(1, int(draw.textlength(label + "   ", font=font)))
    for row, y in enumerate(range(0, diagonal, step)):
        offset = -(row % 2) * width // 2
        for x in range(offset, diagonal, width):
            draw.text((x, y), label, fill=255, font=font)
    layer = layer.rotate(30, resample=Image.BILINEAR)
    left, top = (diagonal - image.width) // 2, (diagonal - image.height) // 2
    mask = layer.crop((left, top, left + image.width, top + image.height))
    mask = mask.point(lambda v: v * 45 // 100)  # about 45% opaque
    out = image.copy()
    out.paste(Image.new("RGB", image.size, (0, 0, 0)), (2, 2), mask.point(lambda v: v // 3))
    out.paste(Image.new("RGB", image.size, (255, 255, 255)), (0, 0), mask)
    return out


def _jpeg(image):
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
