"""Face indexing of an event's photos: queue a task, run it, report progress.

Each scanned photo gets a checkpoint row written in the same transaction as its
faces, so an interrupted task resumes exactly where it stopped: no photo is
indexed twice and none is missed.
"""
import json
import logging
import os
import socket
import time
import uuid

import numpy as np

from phopy.data import photos as photos_db
from phopy.data import tasks as tasks_db
from phopy.data.timeutil import unix_now
from phopy.errors import N_, Conflict, NotFound

log = logging.getLogger(__name__)
HOST = socket.gethostname()


def new_runner_id():
    """An id for a runner: host, process id and a nonce."""
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def runner_is_dead(runner_id):
    """True when the runner was a process on this host that no longer exists."""
    try:
        host, pid, _nonce = (runner_id or "").split(":")
        pid = int(pid)
    except ValueError:
        return False
    if host != HOST:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid):
    """A killed process nobody has reaped yet still answers kill(pid, 0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def is_abandoned(task, stale_seconds, now=None):
    """A running task whose runner died or stopped sending heartbeats."""
    if task["status"] != "running":
        return False
    now = now or unix_now()
    stale = task["heartbeat_at"] is None or now - task["heartbeat_at"] > stale_seconds
    return stale or runner_is_dead(task["claimed_by"])


def enqueue_indexing(conn, event_id):
    """Queue indexing of the event's unscanned photos; return the task.

    A pending task already queued for the event is reused. A running one keeps
    going until no photo is left, but a new pending task is still queued so
    photos added at the very end of a run are never left out.
    """
    from phopy.jobs.queue import enqueue
    return enqueue(conn, "index", {"event_id": event_id}, event_id=event_id,
                   lock_key=f"index:{event_id}", reuse_pending=True,
                   total=photos_db.count_for_event(conn, event_id))


def queue_interrupted_imports(conn):
    """Queue indexing for events whose photos were saved but never queued (an
    upload cut short by a crash); return the new tasks."""
    return [enqueue_indexing(conn, event_id) for event_id in tasks_db.events_needing_index(conn)]


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


def get_task(conn, task_id):
    """The task, or NotFound."""
    task = tasks_db.get(conn, task_id)
    if not task:
        raise NotFound(N_("This task does not exist."))
    return task


def latest_task(conn, event_id):
    """The event's latest task, or None."""
    return tasks_db.latest_for_event(conn, event_id, kind="index")


def resume_task(conn, task_id, stale_seconds):
    """Put an interrupted or failed task back in the queue."""
    task = get_task(conn, task_id)
    if task["status"] == "running" and not is_abandoned(task, stale_seconds):
        raise Conflict(N_("This task is still running."))
    if task["status"] not in ("running", "failed") or not tasks_db.requeue(conn, task_id):
        raise Conflict(N_("This task cannot be resumed."))
    from phopy.jobs.queue import dispatch
    task = tasks_db.get(conn, task_id)
    dispatch(task)
    return task


def task_json(task, stale_seconds):
    """The task as the API returns it (the original system's fields and more)."""
    total = task["total"] or 0
    progress = task["progress"] or 0
    eta = None
    if task["status"] == "running" and task["run_started_at"]:
        done_this_run = progress - (task["run_progress0"] or 0)
        elapsed = unix_now() - task["run_started_at"]
        if done_this_run > 0 and elapsed > 0:
            eta = round(max(total - progress, 0) * elapsed / done_this_run, 1)
    return {
        "id": task["id"],
        "kind": task.get("kind") or "index",
        "event_id": task["event_id"],
        "status": task["status"],
        "progress": progress,
        "total": total,
        "progress_percent": round(100.0 * progress / total, 1) if total else
        (100.0 if task["status"] == "completed" else 0.0),
        "current_item": task["current_item"],
        "error": task["error"],
        "faces_found": task["faces_found"] or 0,
        "eta_seconds": eta,
        "started_at": task["started_at"],
        "finished_at": task["finished_at"],
        "resumable": is_abandoned(task, stale_seconds) or task["status"] == "failed",
        "attempts": task.get("attempts") or 0,
        "max_attempts": task.get("max_attempts") or 0,
        "retry_at": task.get("run_after") or None if task["status"] == "pending" else None,
        "result": json.loads(task["result"]) if task.get("result") else None,
    }


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


def index_event(ctx, event_id):
    """Job ``index``: scan every unscanned photo of the event with the face pool.

    ``ctx.pool.analyze`` yields ``(photo, analysis, error)``; each photo's
    faces are stored with its checkpoint. Returns ``{photos, faces}``. Stops
    early (TaskLost) when the task is deleted or taken over.
    """
    conn, storage, task_id = ctx.conn, ctx.storage, ctx.task_id
    batch_size = int(ctx.config.get("INDEX_BATCH_SIZE") or 32)
    progress, faces_found = ctx.task["progress"] or 0, ctx.task["faces_found"] or 0
    log.info("indexing event %s (task %s, resuming at %d)", event_id, task_id, progress)
    while True:
        batch = photos_db.list_unscanned(conn, event_id, batch_size)
        if not batch:
            break
        scanned = photos_db.count_scanned(conn, event_id)
        total = scanned + photos_db.count_unscanned(conn, event_id)
        progress = scanned
        items = ((photo, storage.path(photo["storage_key"])) for photo in batch)
        for photo, analysis, error in ctx.pool.analyze(items):
            if error:
                log.warning("photo %s (%s) skipped: %s", photo["id"], photo["filename"], error)
                stored = photos_db.record_scan(conn, photo, task_id, "error", [], error[:500])
                found = 0
            else:
                faces = encode_faces(analysis)
                stored = photos_db.record_scan(conn, photo, task_id,
                                               "indexed" if faces else "no_faces", faces,
                                               engine_key=(analysis.engine,
                                                           analysis.model_version))
                found = len(faces) if stored else 0
            progress += 1 if stored else 0
            faces_found += found
            ctx.progress(progress, total, photo["filename"], faces_found)
            if ctx.on_photo:
                ctx.on_photo(photo, analysis, error)
    log.info("indexing event %s done: %d photos, %d faces", event_id, progress, faces_found)
    return {"photos": progress, "faces": faces_found}


def wait_for_task(conn, task_id, timeout=None, poll=0.5):
    """Block until the task completes or fails; return it."""
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        task = get_task(conn, task_id)
        if task["status"] in ("completed", "failed"):
            return task
        if deadline and time.monotonic() > deadline:
            return task
        time.sleep(poll)
