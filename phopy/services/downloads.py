"""What a found photo's download hands out: one photo, or all of a result as a ZIP.

With an event banner, the bannered copy (``overlays.bannered_key``: rendered
once, bounded, then a stored object); without one, the stored original (or the
Drive original when originals are not kept). Downloads name storage keys or
bytes, never a path: the web streams a key's bytes (or redirects to a
presigned URL), so any machine serves them from any backend. A ZIP is
streamed entry by entry as it is sent (zipstream-ng): no temp file, and at
most one chunk of one photo in memory.
"""
import logging
from dataclasses import dataclass

from phopy.services import links, overlays
from phopy.services.photos import media_of_bytes, original_bytes, stored_media

log = logging.getLogger(__name__)
RENDER_WAIT_SECONDS = 30      # a single download waits this long for a render slot, then 503
ZIP_RENDER_WAIT_SECONDS = 600  # a ZIP already being sent waits (it cannot answer 503 anymore)


@dataclass(frozen=True)
class Download:
    """One download: a stored ``key`` or ``data`` bytes, with how to send it."""

    key: str | None
    data: bytes | None
    mimetype: str
    name: str
    max_age: int  # browser cache seconds


def _slots(config):
    return overlays.render_slots(config["DOWNLOAD_RENDERS"])


def photo_download(conn, storage, config, photo, event):
    """One photo's :class:`Download`.

    With a banner: its bannered copy (the original as it is when the photo
    cannot be decoded), never cached by the browser (the banner may change).
    """
    key = overlays.bannered_key(storage, photo, event, _slots(config), RENDER_WAIT_SECONDS)
    if key is not None:
        return Download(key, None, "image/jpeg", overlays.download_name(photo), 0)
    banner = overlays.banner_applies(storage, event)
    if not banner:
        original = original_bytes(conn, config, photo)
        if original is not None:  # DRIVE_KEEP_ORIGINALS=0: straight from Drive
            return Download(None, original, *media_of_bytes(original, photo["filename"]), 86400)
    mimetype, name = stored_media(storage, photo)
    return Download(photo["storage_key"], None, mimetype, name, 0 if banner else 86400)


def zip_archive(database, storage, config, photos, event):
    """A ZipStream of the photos as downloaded (bannered copies rendered as their turn
    comes). It is read after the request's own connection is closed, so a Drive fetch
    opens its own from ``database``."""
    banner = overlays.banner_applies(storage, event)
    from_drive = not config.get("DRIVE_KEEP_ORIGINALS", True) and any(
        p.get("source") == "drive" for p in photos)
    entries = []
    for photo in photos:
        key = photo["storage_key"]
        if banner and photo.get("width"):  # decoded when it was added
            entries.append((overlays.download_name(photo),
                            _bannered_chunks(storage, config, photo, event)))
        elif from_drive and not banner:
            entries.append((stored_media(storage, photo)[1],
                            _drive_chunks(database, storage, config, photo)))
        else:
            size = photo.get("size_bytes") or storage.stat(key)[0]
            entries.append((stored_media(storage, photo)[1], storage.chunks(key), size))
    return links.zip_stream(entries, sized=not (banner or from_drive))


def _bannered_chunks(storage, config, photo, event):
    key = overlays.bannered_key(storage, photo, event, _slots(config), ZIP_RENDER_WAIT_SECONDS)
    yield from storage.chunks(key or photo["storage_key"])


def _drive_chunks(database, storage, config, photo):
    conn = database.connect()
    try:
        data = original_bytes(conn, config, photo)
    finally:
        conn.close()
    if data is None:
        yield from storage.chunks(photo["storage_key"])
    else:
        yield data
