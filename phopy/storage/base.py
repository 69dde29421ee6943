"""The storage interface every backend implements, and the photo keys.

Shaped like CTFd's ``utils/uploads/uploaders.py``: one small base class, a
filesystem backend and an S3 backend, chosen by config (``STORAGE_BACKEND``).
Keys are relative, slash-separated names such as ``originals/<event>/<sha256>.jpg``;
no caller needs to know where the bytes are.

Errors: a key that is not stored raises :class:`~phopy.errors.StorageMissing`;
storage that cannot be reached (a server down, wrong credentials, an unmounted
folder) raises :class:`~phopy.errors.StorageUnavailable`, a ``TransientError``,
so a job retries instead of blaming the photo.
"""
import mimetypes
import shutil
from contextlib import contextmanager

from phopy.errors import StorageMissing, StorageUnavailable

CHUNK = 256 * 1024


class Storage:
    """What Phopy needs from a place that keeps photo files."""

    backend = "base"

    def save(self, key, data):
        """Store ``data`` (bytes or a binary file object) under ``key``; return the key."""
        raise NotImplementedError

    def open(self, key):
        """A binary file object streaming the stored bytes (close it, or use ``with``)."""
        raise NotImplementedError

    def open_sized(self, key):
        """(binary file object, size in bytes) of a stored key: a response streams the
        one with the other as its Content-Length."""
        size = self.stat(key)[0]
        return self.open(key), size

    def read(self, key):
        """The stored bytes."""
        with self.open(key) as fh:
            return fh.read()

    def chunks(self, key, size=CHUNK):
        """Yield the stored bytes a chunk at a time (a streamed response, a ZIP entry):
        opened when the first chunk is asked for, closed after the last."""
        with self.open(key) as fh:
            while chunk := fh.read(size):
                yield chunk

    def stat(self, key):
        """(size in bytes, modified unix time) of a stored key."""
        raise NotImplementedError

    def exists(self, key):
        """Whether ``key`` is stored (False for None)."""
        raise NotImplementedError

    def delete(self, key):
        """Remove one stored key, if there (None is ignored)."""
        raise NotImplementedError

    def delete_prefix(self, prefix):
        """Remove every key below ``prefix`` (a folder of keys, such as an event's)."""
        raise NotImplementedError

    def list(self, prefix):
        """Yield (key, modified unix time) of every key below ``prefix``."""
        raise NotImplementedError

    def list_files(self, prefix):
        """Same as :meth:`list` (the name older callers use)."""
        return self.list(prefix)

    @contextmanager
    def local_copy(self, key):
        """A local file path holding the stored bytes, for a library that only takes a
        path; removed afterwards when it was a temporary copy."""
        raise NotImplementedError
        yield  # pragma: no cover

    def url(self, key, *, filename=None, mimetype=None):
        """A URL a browser may fetch the bytes from, or None: the app streams them."""
        return None

    def check(self):
        """Raise StorageUnavailable unless the storage answers now."""
        raise NotImplementedError

    def settings(self):
        """The settings (STORAGE_BACKEND, DATA_DIR, S3_*) that ``make_storage`` turns into
        this same storage: another process (a face worker) builds its own from them."""
        raise NotImplementedError

    def describe(self):
        """Where the files are, for logs and messages (never a secret)."""
        return self.backend

    def copy_to(self, other, key):
        """Copy one stored key into another storage (a migration)."""
        with self.open(key) as fh:
            other.save(key, fh)


def guess_type(key):
    """The MIME type a key's extension names (application/octet-stream otherwise)."""
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def copy_stream(source, target):
    """Copy a file object into another in chunks."""
    shutil.copyfileobj(source, target, CHUNK)


__all__ = ["Storage", "StorageMissing", "StorageUnavailable", "guess_type", "copy_stream"]
