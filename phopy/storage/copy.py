"""Copy every stored object from one storage to another and verify it (file → S3).

Each object is read back from the target and compared by SHA-256; an object the
target already holds with the same bytes is left alone, so a copy cut short
simply runs again.
"""
import hashlib
import logging

from phopy.errors import StorageMissing

log = logging.getLogger(__name__)


def _digest(storage, key):
    digest = hashlib.sha256()
    with storage.open(key) as fh:
        for chunk in iter(lambda: fh.read(256 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def copy_all(source, target, prefixes, progress=None):
    """Copy every key below ``prefixes``; return {"copied", "already", "failed": [keys]}."""
    report = {"copied": 0, "already": 0, "failed": []}
    for prefix in prefixes:
        for key, _mtime in source.list(prefix):
            if key.rsplit("/", 1)[-1].startswith(".tmp-"):
                continue  # a write cut short (the orphan sweep removes it)
            want = _digest(source, key)
            try:
                if target.exists(key) and _digest(target, key) == want:
                    report["already"] += 1
                    continue
            except StorageMissing:
                pass
            source.copy_to(target, key)
            if _digest(target, key) != want:
                log.error("copy of %s does not match its source", key)
                report["failed"].append(key)
                continue
            report["copied"] += 1
            if progress:
                progress(key)
    return report
