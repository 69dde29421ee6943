"""Where originals, thumbnails, banners and QR codes live, behind one interface.

``STORAGE_BACKEND=file`` (the default): one folder tree under DATA_DIR
(:class:`FileStorage`). ``STORAGE_BACKEND=s3``: a bucket of any S3-compatible
service (:class:`S3Storage`). Both implement :class:`Storage`; callers get the
app's one from ``phopy.extensions.get_storage`` and pass keys, never paths.
"""
from phopy.errors import StorageMissing, StorageUnavailable
from phopy.storage.base import Storage
from phopy.storage.file import FileStorage

BACKENDS = ("file", "s3")
PHOTO_PREFIXES = ("originals", "thumbnails")


def make_storage(config):
    """The storage ``config`` names (STORAGE_BACKEND, DATA_DIR, S3_*)."""
    backend = (config.get("STORAGE_BACKEND") or "file").strip().lower()
    if backend == "file":
        return FileStorage(config["DATA_DIR"])
    if backend == "s3":
        from phopy.storage.s3 import S3Storage
        return S3Storage.from_config(config)
    raise ValueError(f"STORAGE_BACKEND={backend!r} is not one of {', '.join(BACKENDS)}")


def original_key(event_id, content_hash, ext):
    """Storage key of an original photo."""
    return f"originals/{event_id}/{content_hash}.{ext}"


def thumbnail_key(event_id, content_hash):
    """Storage key of a photo's JPEG thumbnail."""
    return f"thumbnails/{event_id}/{content_hash}.jpg"


def qr_key(event_id):
    """Storage key of an event's QR code PNG."""
    return f"qr/{event_id}.png"


# Top folders that hold one event's files under <folder>/<event id>: every key Phopy
# writes sits in one of these or in qr/ (a feature adding a folder adds it here).
EVENT_FOLDERS = ("originals", "thumbnails", "banners", "renditions", "crops", "previews",
                 "slips", "sales")


def event_prefixes(event_id):
    """Every folder that holds one event's files."""
    return [f"{folder}/{event_id}" for folder in EVENT_FOLDERS]


def all_prefixes():
    """Every top folder of keys Phopy writes (for a copy to another storage)."""
    return [*EVENT_FOLDERS, "qr"]


__all__ = ["BACKENDS", "EVENT_FOLDERS", "FileStorage", "PHOTO_PREFIXES", "Storage", "StorageMissing",
           "StorageUnavailable", "all_prefixes", "event_prefixes", "make_storage",
           "original_key", "qr_key", "thumbnail_key"]
