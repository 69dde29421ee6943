"""Task rows as the views, the API and the CLI see them: look up, resume, JSON, wait."""
import json
import time

from phopy.data import tasks as tasks_db
from phopy.data.timeutil import unix_now
from phopy.errors import N_, Conflict, NotFound
from phopy.jobs.liveness import is_abandoned


def get_task(conn, task_id):
    """The task, or NotFound."""
    task = tasks_db.get(conn, task_id)
    if not task:
        raise NotFound(N_("This task does not exist."))
    return task


def latest_task(conn, event_id, kind="index"):
    """The event's latest task of ``kind``, or None."""
    return tasks_db.latest_for_event(conn, event_id, kind=kind)


def resume_task(conn, task_id, stale_seconds):
    """Put an interrupted or failed task back in the queue."""
    from phopy.jobs.queue import dispatch
    task = get_task(conn, task_id)
    if task["status"] == "running" and not is_abandoned(task, stale_seconds):
        raise Conflict(N_("This task is still running."))
    if task["status"] not in ("running", "failed") or not tasks_db.requeue(conn, task_id):
        raise Conflict(N_("This task cannot be resumed."))
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
