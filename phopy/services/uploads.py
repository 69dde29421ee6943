"""Photos sent by a photographer (the dashboard, the REST API): store them one at a
time, then start indexing unless the event turned that off. One flow for every
route that accepts photos."""
from dataclasses import dataclass

from phopy.services import indexing, photos


@dataclass
class UploadOutcome:
    """What an upload did: the import summary, the indexing task (or None), and the
    HTTP status that says it (200; 413/415 when every file was refused)."""

    summary: object
    task: dict
    status: int


def add_uploads(conn, storage, event, files, config):
    """Import ``files`` — (filename, fetch) pairs, ``fetch()`` giving one file's
    bytes, read only when its turn comes — into ``event``; return an UploadOutcome."""
    summary = photos.import_items(
        conn, storage, event["id"], ((name, fetch, None) for name, fetch in files),
        max_bytes=config["MAX_PHOTO_BYTES"], thumb_side=config["THUMBNAIL_MAX_SIDE"],
        max_pixels=config["MAX_PHOTO_PIXELS"])
    task = None
    if summary.added and event["auto_index"] and config["AUTO_INDEX"]:
        task = indexing.enqueue_indexing(conn, event["id"])
    status = 200
    if not summary.added and not summary.duplicates and summary.rejected:
        status = 413 if summary.rejected[0]["code"] == "file_too_large" else 415
    return UploadOutcome(summary, task, status)
