"""Bringing photos into an event: validate, de-duplicate, store, thumbnail."""
import hashlib
import logging
import time
from dataclasses import dataclass, field

from phopy import storage as keys
from phopy.data import photos as photos_db
from phopy.errors import N_, FileTooLarge, ImageDecodeError, Message, NotFound, UnsupportedFile
from phopy.faces.images import (DEFAULT_MAX_PIXELS, check_dimensions, image_size,
                                make_thumbnail, open_image, sniff_format)
from phopy.jobs.registry import on_recover
from phopy.services.overlays import forget_renditions
from phopy.services.text import clean_filename, file_stem

log = logging.getLogger(__name__)

EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "heic": "heic"}
MIMETYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
             "webp": "image/webp", "heic": "image/heic"}


@dataclass
class ImportSummary:
    """What an import did, file by file."""

    added: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    rejected: list = field(default_factory=list)

    def as_dict(self):
        """JSON-ready counts and details."""
        return {"added": len(self.added), "duplicates": len(self.duplicates),
                "rejected": self.rejected, "photo_ids": self.added}


def check_image_bytes(data, max_bytes, filename=""):
    """Return the image format of an upload, or raise a friendly error."""
    name = filename or "The file"
    if len(data) > max_bytes:
        raise FileTooLarge(Message(N_("%(name)s is larger than %(mb)d MB."), name=name,
                                   mb=max_bytes // (1024 * 1024)), filename=filename)
    if not data:
        raise UnsupportedFile(Message(N_("%(name)s is empty."), name=name), filename=filename)
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedFile(Message(N_("%(name)s is not a JPEG, PNG, GIF, WebP or HEIC photo."),
                                      name=name), filename=filename)
    return fmt


def stored_media(storage, photo):
    """(content type, download name) of a stored original, from its real bytes.

    The type comes from the file's magic bytes, never from the name it was
    uploaded with; the download name keeps the uploaded stem with the real
    format's extension. Bytes that are no image we know are sent as
    ``application/octet-stream`` (download only).
    """
    with storage.open(photo["storage_key"]) as fh:
        return media_of_bytes(fh.read(64), photo["filename"])


def media_of_bytes(data, filename):
    """(content type, download name) for image bytes, from their magic bytes."""
    fmt = sniff_format(data[:64])
    stem = file_stem(filename)
    if fmt is None:
        return "application/octet-stream", f"{stem}.bin"
    return MIMETYPES[fmt], f"{stem}.{EXTENSIONS[fmt]}"


def add_photo(conn, storage, event_id, filename, data, *, max_bytes, thumb_side=480,
              source="upload", source_ref=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Store one photo in the event. Returns (photo_id, is_new).

    The same content twice is stored once. A photo that cannot be decoded is
    still stored (if its bytes look like an image) and later recorded by the
    indexer with its error; no thumbnail is made for it.
    """
    filename = clean_filename(filename)
    fmt = check_image_bytes(data, max_bytes, filename)
    try:  # before anything is decoded: a small file may declare a huge image
        check_dimensions(data, max_pixels, filename)
    except ImageDecodeError:
        pass  # stored anyway; the indexer records it as unreadable
    content_hash = hashlib.sha256(data).hexdigest()
    existing = photos_db.find_by_hash(conn, event_id, content_hash)
    if existing:
        return existing["id"], False
    key = storage.save(keys.original_key(event_id, content_hash, EXTENSIONS[fmt]), data)
    thumb_key, width, height = None, None, None
    try:
        image = open_image(data, max_side=thumb_side * 2)
        thumb_key = storage.save(keys.thumbnail_key(event_id, content_hash),
                                 make_thumbnail(image, thumb_side))
        width, height = image_size(data)
    except ImageDecodeError as exc:
        log.warning("photo %s of event %s is unreadable: %s", filename, event_id, exc)
    photo_id = photos_db.insert(conn, {
        "event_id": event_id, "filename": filename, "content_hash": content_hash,
        "storage_key": key, "thumb_key": thumb_key, "width": width, "height": height,
        "size_bytes": len(data), "source": source, "source_ref": source_ref})
    if photo_id is None:  # the same bytes arrived twice at once
        return photos_db.find_by_hash(conn, event_id, content_hash)["id"], False
    return photo_id, True


def import_items(conn, storage, event_id, items, *, max_bytes, thumb_side=480, source="upload",
                 max_pixels=DEFAULT_MAX_PIXELS):
    """Add photos from (filename, bytes-or-loader, ref) items; return an ImportSummary."""
    summary = ImportSummary()
    for filename, payload, ref in items:
        try:
            data = payload() if callable(payload) else payload
            photo_id, is_new = add_photo(conn, storage, event_id, filename, data,
                                         max_bytes=max_bytes, thumb_side=thumb_side,
                                         source=source, source_ref=ref, max_pixels=max_pixels)
        except (FileTooLarge, UnsupportedFile) as exc:
            summary.rejected.append({"filename": clean_filename(filename),
                                     "error": exc.message, "code": exc.code})
            continue
        (summary.added if is_new else summary.duplicates).append(photo_id)
    return summary


def get_event_photo(conn, event_id, photo_id):
    """The photo if it belongs to the event; NotFound otherwise."""
    photo = photos_db.get(conn, photo_id)
    if not photo or photo["event_id"] != event_id:
        raise NotFound(N_("This photo does not exist."))
    return photo


def list_event_photos(conn, event_id, limit=200, offset=0):
    """Photos of an event with their scan status."""
    return photos_db.list_for_event(conn, event_id, limit, offset)


BEFORE_DELETE = []


def before_photo_delete(func):
    """Decorator: ``func(conn, storage, config, photo)`` runs before a photo is deleted
    (selling keeps a copy of a photo a buyer paid for)."""
    BEFORE_DELETE.append(func)
    return func


def delete_photo(conn, storage, event_id, photo_id, config=None):
    """Delete one photo of the event, with its faces and files."""
    photo = get_event_photo(conn, event_id, photo_id)
    for hook in BEFORE_DELETE:
        hook(conn, storage, config or {}, photo)
    photos_db.delete(conn, photo_id)
    if not photos_db.find_by_hash(conn, event_id, photo["content_hash"]):
        storage.delete(photo["storage_key"])
        storage.delete(photo["thumb_key"])
        forget_renditions(storage, event_id, photo["content_hash"])  # its bannered copies


def ensure_thumbnail(conn, storage, photo, thumb_side=480):
    """The photo's thumbnail key, made now if missing; None if unreadable."""
    if photo["thumb_key"] and storage.exists(photo["thumb_key"]):
        return photo["thumb_key"]
    try:
        image = open_image(storage.read(photo["storage_key"]), max_side=thumb_side * 2)
    except ImageDecodeError:
        return None
    key = storage.save(keys.thumbnail_key(photo["event_id"], photo["content_hash"]),
                       make_thumbnail(image, thumb_side))
    photos_db.set_thumbnail(conn, photo["id"], key, photo["width"] or image.width,
                            photo["height"] or image.height)
    return key


ORIGINAL_FETCHERS = []


def fetches_originals(func):
    """Decorator: ``func(conn, config, photo)`` gives a photo's original bytes from
    where it came from (a channel that does not keep originals), or None."""
    ORIGINAL_FETCHERS.append(func)
    return func


def original_bytes(conn, config, photo):
    """The photo's original from its source when a channel keeps none, else None
    (the stored file is the original)."""
    for fetch in ORIGINAL_FETCHERS:
        data = fetch(conn, config, photo)
        if data is not None:
            return data
    return None


@on_recover
def recover_orphan_files(conn, storage, config):
    """At runner start: remove files a killed server saved but never recorded."""
    return len(remove_orphan_files(conn, storage,
                                   float(config.get("ORPHAN_GRACE_SECONDS", 300))))


def remove_orphan_files(conn, storage, grace_seconds=300, now=None):
    """Delete stored originals and thumbnails no photo points at (a server killed
    between saving a file and recording it), once older than ``grace_seconds``
    so an upload still under way elsewhere keeps its files. Returns the keys."""
    now = now or time.time()
    known = photos_db.all_file_keys(conn)
    removed = []
    for prefix in keys.PHOTO_PREFIXES:
        for key, mtime in list(storage.list_files(prefix)):
            if key not in known and now - mtime >= grace_seconds:
                storage.delete(key)
                removed.append(key)
    if removed:
        log.warning("removed %d stored files no photo points at", len(removed))
    return removed
