"""Checks a process runs before it serves: the schema version, the shared storage.

Web machines, job workers and beat call :func:`check_start` once at start
(``phopy.wsgi``, ``phopy.jobs.worker``, ``flask run-worker``); it raises
:class:`StartRefused` with a message that says what to fix, and the process
stops instead of running against a database or a storage it cannot serve.
"""
import logging

from phopy.data import get_database, meta
from phopy.data.upgrade import SchemaMismatch, check_schema
from phopy.errors import StorageUnavailable

log = logging.getLogger(__name__)


class StartRefused(RuntimeError):
    """This process cannot serve this configuration (the message says why)."""


def check_schema_version(app):
    """The database's schema version is this code's."""
    conn = get_database(app).connect()
    try:
        check_schema(conn)
    except SchemaMismatch as exc:
        raise StartRefused(str(exc)) from exc
    finally:
        conn.close()


def check_data_folder(app, storage=None):
    """With the file backend, this data folder is the one the database records.

    The first process to start records its folder's id (``data_dir_id``); a
    process on another machine whose PHOPY_DATA_DIR is a different folder (or
    an empty local one) would not find the photos, so it refuses to start.
    """
    from phopy.extensions import get_storage
    storage = storage or get_storage(app)
    if storage.backend != "file":
        return None
    folder_id = storage.folder_id(create=True)
    conn = get_database(app).connect()
    try:
        with conn.transaction():
            recorded = meta.put_if_missing(conn, "data_dir_id", folder_id)
    finally:
        conn.close()
    if recorded != folder_id:
        raise StartRefused(
            f"The data folder {storage.root} is not the one this database uses (its id is "
            f"{folder_id}, the database expects {recorded}). Every machine must mount the "
            "same PHOPY_DATA_DIR, or use STORAGE_BACKEND=s3 so that machines share a bucket "
            "instead of a folder.")
    return folder_id


def check_storage(app, storage=None):
    """The storage answers now (an S3 bucket with these credentials, a writable folder)."""
    from phopy.extensions import get_storage
    storage = storage or get_storage(app)
    try:
        storage.check()
    except StorageUnavailable as exc:
        raise StartRefused(f"Cannot use {storage.describe()}: {exc.message}") from exc


def check_start(app, role):
    """Every check for ``role`` ("web", "worker" or "beat"); raises StartRefused."""
    check_schema_version(app)
    if role in ("web", "worker"):
        check_storage(app)
        check_data_folder(app)
    log.info("%s start checks passed", role)
