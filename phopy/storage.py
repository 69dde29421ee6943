"""Where originals, thumbnails and QR codes live: one folder tree under DATA_DIR.

Keys are relative paths such as ``originals/<event>/<sha256>.jpg``. The
filesystem backend is the only one today; another backend (S3, say) would
implement the same five methods.
"""
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


class FileStorage:
    """Stores files below one root folder."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # photos, faces and the database inside are for this user only
            if self.root.stat().st_mode & 0o077:
                self.root.chmod(0o700)
        except OSError as exc:
            log.warning("could not make %s private: %s", self.root, exc)

    def path(self, key):
        """Absolute path of a stored key (refuses keys that climb out of the root)."""
        full = (self.root / key).resolve()
        if self.root.resolve() not in full.parents:
            raise ValueError(f"bad storage key: {key!r}")
        return full

    def save(self, key, data):
        """Write bytes atomically (temp file + rename) and return the key."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def exists(self, key):
        """Whether the key is stored."""
        return key is not None and self.path(key).is_file()

    def read(self, key):
        """The stored bytes."""
        return self.path(key).read_bytes()

    def delete(self, key):
        """Remove one stored file, if there."""
        if key:
            self.path(key).unlink(missing_ok=True)

    def list_files(self, prefix):
        """(key, modified unix time) of every file below a folder of keys."""
        folder = self.path(prefix)
        if not folder.is_dir():
            return
        for path in folder.rglob("*"):
            if path.is_file():
                try:
                    yield path.relative_to(self.root).as_posix(), path.stat().st_mtime
                except OSError:
                    continue

    def delete_prefix(self, prefix):
        """Remove a whole folder of keys (an event's files)."""
        folder = self.path(prefix)
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def original_key(event_id, content_hash, ext):
    """Storage key of an original photo."""
    return f"originals/{event_id}/{content_hash}.{ext}"


def thumbnail_key(event_id, content_hash):
    """Storage key of a photo's JPEG thumbnail."""
    return f"thumbnails/{event_id}/{content_hash}.jpg"


def qr_key(event_id):
    """Storage key of an event's QR code PNG."""
    return f"qr/{event_id}.png"


PHOTO_PREFIXES = ("originals", "thumbnails")


def event_prefixes(event_id):
    """Every folder that holds one event's files."""
    return [f"originals/{event_id}", f"thumbnails/{event_id}", f"banners/{event_id}",
            f"renditions/{event_id}"]
