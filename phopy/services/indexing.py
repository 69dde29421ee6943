"""Face indexing of an event's photos: queue a task, run it, report progress.

Each scanned photo gets a checkpoint row written in the same transaction as its
faces, so an interrupted task resumes exactly where it stopped: no photo is
indexed twice and none is missed.
"""
import logging
import time

import numpy as np

from phopy.data import events as events_db
from phopy.data import photos as photos_db
from phopy.data import tasks as tasks_db
from phopy.services import index_share
from phopy.errors import StorageUnavailable
from phopy.jobs.context import TaskLost
from phopy.jobs.queue import enqueue
from phopy.jobs.registry import job, on_recover

log = logging.getLogger(__name__)
_AFTER_INDEXING = {}  # "module.name" -> func (a module imported again replaces its own)


def after_indexing(func):
    """Decorator: ``func(conn, config, event_id)`` runs when an ``index`` task has scanned
    every photo of its event (a feature's follow-up job, such as ``phopy.bibs``)."""
    _AFTER_INDEXING[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def enqueue_indexing(conn, event_id):
    """Queue indexing of the event's unscanned photos; return the task.

    A pending task already queued for the event is reused. A running one keeps
    going until no photo is left, but a new pending task is still queued so
    photos added at the very end of a run are never left out.
    """
    return enqueue(conn, "index", {"event_id": event_id}, event_id=event_id,
                   lock_key=f"index:{event_id}", reuse_pending=True,
                   total=photos_db.count_for_event(conn, event_id))


def queue_interrupted_imports(conn):
    """Queue indexing for events whose photos were saved but never queued (an
    upload cut short by a crash); return the new tasks."""
    return [enqueue_indexing(conn, event_id) for event_id in tasks_db.events_needing_index(conn)]


@on_recover
def recover_interrupted_imports(conn, storage, config):
    """At runner start (with AUTO_INDEX on): index what an upload cut short left."""
    if not config.get("AUTO_INDEX", True):
        return 0
    queued = queue_interrupted_imports(conn)
    if queued:
        log.warning("queued indexing of %d events whose upload was cut short", len(queued))
    return len(queued)


def reindex_event(conn, event_id):
    """Forget the event's faces and queue indexing of all its photos."""
    photos_db.reset_scans(conn, event_id)
    return enqueue_indexing(conn, event_id)


def events_needing_reindex(conn, event_ids, settings):
    """The ``event_ids`` holding faces that another engine or model version made.

    They cannot be searched (``phopy.services.search.check_engine``) until
    re-indexed with the running engine; the dashboard offers that.
    """
    from phopy.data import faces as faces_db
    from phopy.faces.engine import engine_key
    return faces_db.events_with_other_engines(conn, event_ids, *engine_key(settings))


def checkpoint_status(conn, event_id):
    """How far indexing of the event has come, from its checkpoints."""
    summary = photos_db.checkpoint_summary(conn, event_id)
    summary["event_id"] = event_id
    summary["complete"] = summary["remaining"] == 0
    summary["errors"] = photos_db.list_errors(conn, event_id)
    return summary


def encode_faces(analysis):
    """(box, float32 bytes) pairs for storing a PhotoAnalysis's faces."""
    return [(tuple(int(v) for v in face.box),
             np.asarray(face.encoding, dtype="<f4").tobytes()) for face in analysis.faces]


PURGED_NOTE = "not indexed: this event's face data was deleted (retention)"


def _faces_purged(conn, event_id):
    event = events_db.get(conn, event_id)
    return event is None or bool(event.get("faces_purged_at"))


def _skip_purged(conn, batch, task_id):
    """Check photos of a purged event off without looking for faces."""
    return sum(photos_db.record_scan(conn, photo, task_id, "error", [], PURGED_NOTE)
               for photo in batch)


def _deleted_meanwhile(conn, batch, key):
    """Whether the photo of ``batch`` stored at ``key`` was deleted since it was listed
    (its file went with it: nothing is wrong with storage)."""
    photo = next((photo for photo in batch if photo["storage_key"] == key), None)
    return photo is not None and photos_db.get(conn, photo["id"]) is None


def _record(conn, task_id, photo, analysis, error):
    """Store one photo's checkpoint (and faces); return (stored, faces found)."""
    if error:
        log.warning("photo %s (%s) skipped: %s", photo["id"], photo["filename"], error)
        return photos_db.record_scan(conn, photo, task_id, "error", [], error[:500]), 0
    faces = encode_faces(analysis)
    stored = photos_db.record_scan(conn, photo, task_id, "indexed" if faces else "no_faces",
                                   faces, engine_key=(analysis.engine, analysis.model_version))
    return stored, len(faces) if stored else 0


class _Tally:
    """What a task reports while it scans: progress of total, faces found."""

    def __init__(self, progress=0, total=0, faces=0):
        self.progress, self.total, self.faces = progress, total, faces


def _claims(ctx, event_id):
    """This task's claims on the event's photos (index_share.Claims)."""
    return index_share.Claims(ctx.database, ctx.conn, ctx.config, event_id, ctx.task_id,
                              batch_size=int(ctx.config.get("INDEX_BATCH_SIZE") or 32),
                              min_batch=getattr(ctx.pool, "processes", 1), keep_on=(TaskLost,))


def _scan_claimed(ctx, event_id, batch, tally, claims):
    """Scan a claimed batch, storing each photo's faces with its checkpoint (its pace
    sizes the next claims)."""
    conn, task_id = ctx.conn, ctx.task_id
    started = time.monotonic()
    if _faces_purged(conn, event_id):
        skipped = _skip_purged(conn, batch, task_id)
        log.info("event %s: %d photos not indexed, its face data was deleted",
                 event_id, skipped)
        return
    # keys, not paths: each face process reads the bytes from storage itself
    items = ((photo, photo["storage_key"]) for photo in batch)
    try:
        for photo, analysis, error in ctx.pool.analyze(items, storage=ctx.storage):
            stored, found = _record(conn, task_id, photo, analysis, error)
            tally.progress += 1 if stored else 0
            tally.faces += found
            ctx.progress(tally.progress, tally.total, photo["filename"], tally.faces)
            if ctx.on_photo:
                ctx.on_photo(photo, analysis, error)
    except StorageUnavailable as exc:
        if not _deleted_meanwhile(conn, batch, exc.details.get("key")):
            raise
        log.info("photo %s was deleted while it was indexed", exc.details["key"])
    claims.timed(time.monotonic() - started, len(batch))


def _event_tally(conn, event_id, task_id):
    """The event's scanned photos of all, and the faces this task and its helpers found."""
    scanned = photos_db.count_scanned(conn, event_id)
    return _Tally(scanned, scanned + photos_db.count_unscanned(conn, event_id),
                  index_share.faces_by_family(conn, event_id, task_id))


@job("index", needs_pool=True, max_attempts=5)
def index_event(ctx, event_id):
    """Job ``index``: scan every unscanned photo of the event with the face pool.

    Photos are claimed a batch at a time (``phopy.services.index_share``); while
    more are unclaimed, helper tasks (``index_part``) let other workers claim
    batches too, and this task ends once every photo is scanned, waiting for the
    batches its helpers hold (or taking them again when a helper's worker died).
    ``ctx.pool.analyze(items, storage=...)`` reads each photo from storage and
    yields ``(photo, analysis, error)``; each photo's faces are stored with its
    checkpoint. Returns ``{photos, faces}`` (faces: found by this task and its
    helpers); the ``after_indexing`` follow-ups run once, here. Stops early
    (TaskLost) when the task is deleted or taken over. A photo not in storage,
    storage unreachable (StorageUnavailable: retried) or an engine without its
    model files (EngineUnavailable: the task fails) raise: a fault of the machine
    is never recorded as the photo's.
    """
    conn, task_id = ctx.conn, ctx.task_id
    log.info("indexing event %s (task %s, resuming at %d)", event_id, task_id,
             ctx.task["progress"] or 0)
    with _claims(ctx, event_id) as claims:
        wait = min(0.25, claims.lease / 4)
        while True:
            index_share.queue_helpers(conn, ctx.config, claims, task_id)
            batch = claims.claim(index_share.workers_on(conn, task_id) if claims.sharing else 1)
            tally = _event_tally(conn, event_id, task_id)
            if batch:
                _scan_claimed(ctx, event_id, batch, tally, claims)
                continue
            if tally.progress >= tally.total:
                break
            # The rest is claimed by helpers at work, or by a dead worker until its
            # lease runs out: wait, saying how far the event has come.
            ctx.progress(tally.progress, tally.total, None, tally.faces)
            time.sleep(wait)
    tally = _event_tally(conn, event_id, task_id)
    ctx.progress(tally.progress, tally.total, None, tally.faces)
    log.info("indexing event %s done: %d photos, %d faces", event_id, tally.progress,
             tally.faces)
    for follow_up in list(_AFTER_INDEXING.values()):
        follow_up(conn, ctx.config, event_id)
    return {"photos": tally.progress, "faces": tally.faces}


@job(index_share.INDEX_PART, needs_pool=True, max_attempts=5)
def index_part(ctx, event_id, parent_id):
    """Job ``index_part``: help the task ``parent_id`` index the event, claiming and
    scanning batches of its photos until none is free. Returns ``{photos, faces}``
    this helper stored; the parent reports the event's progress and runs the
    follow-ups."""
    tally = _Tally()
    with _claims(ctx, event_id) as claims:
        while True:
            batch = claims.claim(index_share.workers_on(ctx.conn, parent_id))
            if not batch:
                break
            tally.total += len(batch)
            _scan_claimed(ctx, event_id, batch, tally, claims)
    log.info("helper %s of %s: %d photos of event %s, %d faces", ctx.task_id, parent_id,
             tally.progress, event_id, tally.faces)
    return {"photos": tally.progress, "faces": tally.faces}
