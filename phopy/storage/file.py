"""The filesystem backend: one folder tree under DATA_DIR (``STORAGE_BACKEND=file``).

Several machines may share it only when every one mounts the same folder: the
folder carries an id (``.phopy-data-id``) that the database records, and a worker
whose folder holds another id (or none) refuses to start
(:func:`phopy.jobs.checks.check_data_folder`).
"""
import errno
import logging
import os
import shutil
import stat as stat_module
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from phopy.storage.base import Storage, StorageMissing, StorageUnavailable, copy_stream

log = logging.getLogger(__name__)

ID_FILE = ".phopy-data-id"
# Errors of the folder itself (a network mount gone, a full or read-only disk):
# the storage's fault, worth retrying, never the photo's.
_UNAVAILABLE = {errno.EIO, errno.ENOTCONN, errno.ESTALE, errno.ENOSPC, errno.EROFS,
                errno.EACCES, errno.EPERM, errno.EHOSTDOWN, errno.ETIMEDOUT}


def _translate(exc, key):
    """A StorageMissing or StorageUnavailable for an OSError on ``key``."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return StorageMissing(key=key)
    return StorageUnavailable(f"The data folder cannot be used: {exc.strerror or exc}.",
                              key=key)


class FileStorage(Storage):
    """Stores files below one root folder."""

    backend = "file"

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # photos, faces and the database inside are for this user only
            if self.root.stat().st_mode & 0o077:
                self.root.chmod(0o700)
        except OSError as exc:
            log.warning("could not make %s private: %s", self.root, exc)

    def describe(self):
        return f"folder {self.root}"

    def settings(self):
        return {"STORAGE_BACKEND": "file", "DATA_DIR": str(self.root)}

    def _path(self, key):
        """Absolute path of a stored key (refuses keys that climb out of the root); only
        this backend knows paths: callers pass keys and read bytes."""
        full = (self.root / key).resolve()
        if self.root.resolve() not in full.parents:
            raise ValueError(f"bad storage key: {key!r}")
        return full

    def save(self, key, data):
        """Write bytes (or a file object) atomically (temp file + rename); return the key."""
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        except OSError as exc:
            raise _translate(exc, key) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    fh.write(data)
                else:
                    copy_stream(data, fh)
            os.replace(tmp, target)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StorageUnavailable(f"The data folder cannot be written: {exc}.",
                                         key=key) from exc
            raise
        return key

    def open(self, key):
        """The stored file, open for reading."""
        try:
            return open(self._path(key), "rb")
        except OSError as exc:
            raise _translate(exc, key) from exc

    def open_sized(self, key):
        """The stored file, open for reading, and its size."""
        fh = self.open(key)
        return fh, os.fstat(fh.fileno()).st_size

    def stat(self, key):
        """(size in bytes, modified unix time) of a stored file."""
        try:
            info = self._path(key).stat()
        except OSError as exc:
            raise _translate(exc, key) from exc
        if not stat_module.S_ISREG(info.st_mode):
            raise StorageMissing(key=key)
        return info.st_size, info.st_mtime

    def exists(self, key):
        """Whether the key is stored."""
        return key is not None and self._path(key).is_file()

    def delete(self, key):
        """Remove one stored file, if there."""
        if key:
            try:
                self._path(key).unlink(missing_ok=True)
            except OSError as exc:
                raise _translate(exc, key) from exc

    def list(self, prefix):
        """(key, modified unix time) of every file below a folder of keys."""
        folder = self._path(prefix)
        if not folder.is_dir():
            return
        for path in folder.rglob("*"):
            if path.is_file():  # half-written .tmp- files too: the orphan sweep removes them
                try:
                    yield path.relative_to(self.root).as_posix(), path.stat().st_mtime
                except OSError:
                    continue

    def delete_prefix(self, prefix):
        """Remove a whole folder of keys (an event's files)."""
        folder = self._path(prefix)
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def local_copy(self, key):
        """The stored file itself (no copy is made): read it, do not change it."""
        path = self._path(key)
        if not path.is_file():
            raise StorageMissing(key=key)
        yield path

    def free_bytes(self):
        """Free space on the folder's disk (GET /health compares it with HEALTH_MIN_FREE_MB)."""
        return shutil.disk_usage(self.root).free

    def check(self):
        """The folder exists and this process may write into it."""
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"The data folder {self.root} cannot be written.")

    def folder_id(self, create=True):
        """This folder's id (written once, on first use, when ``create``); None if absent."""
        marker = self.root / ID_FILE
        try:
            return marker.read_text().strip() or None
        except FileNotFoundError:
            if not create:
                return None
        except OSError as exc:
            raise StorageUnavailable(f"The data folder {self.root} cannot be read: {exc}.") \
                from exc
        value = uuid.uuid4().hex
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
        try:
            os.link(tmp, marker)  # never replaces an id another process wrote first
        except FileExistsError:
            pass
        finally:
            Path(tmp).unlink(missing_ok=True)
        return marker.read_text().strip()
