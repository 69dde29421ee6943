"""Enqueue jobs: the only way views and services start background work.

``enqueue`` writes the task row; once its transaction commits, the process's
dispatcher hands it on (the in-process runner wakes up; under Celery a message
naming the task is sent). Views and services never import Celery.
"""
import logging
import uuid

from phopy.data import tasks as tasks_db
from phopy.data.timeutil import unix_now
from phopy.jobs.registry import get_kind

log = logging.getLogger(__name__)

_dispatchers = []


def set_dispatcher(func):
    """Add ``func(task)``, called after a task is queued (once per runner kind)."""
    if func not in _dispatchers:
        _dispatchers.append(func)


def remove_dispatcher(func):
    """Stop calling ``func`` (a runner that stopped)."""
    if func in _dispatchers:
        _dispatchers.remove(func)


def clear_dispatchers():
    """Forget every dispatcher (tests that build several apps)."""
    _dispatchers.clear()


def dispatch(task, countdown=0.0):
    """Tell this process's dispatchers about a queued task."""
    for func in list(_dispatchers):
        try:
            func(task, countdown)
        except Exception:  # the row is queued; the runner's sweep will still find it
            log.exception("could not dispatch task %s", task["id"])


def enqueue(conn, kind, args=None, *, event_id=None, lock_key=None, reuse_pending=False,
            total=0, delay=0.0, parent_id=None):
    """Queue the job ``kind`` with keyword ``args``; return the task row.

    ``lock_key``: tasks with the same key never run at once. ``reuse_pending``:
    return the queued (not yet started) task of this kind and key if there is
    one, instead of queueing a second. ``delay``: seconds before it may start.
    ``parent_id``: the task this one helps (``tasks_db.children``).
    """
    job = get_kind(kind)
    with conn.transaction():
        if reuse_pending and lock_key:
            task = tasks_db.pending_with_lock(conn, kind, lock_key)
            if task:
                return task
        task_id = str(uuid.uuid4())
        tasks_db.insert(conn, task_id, event_id, kind, total, args=args, lock_key=lock_key,
                        max_attempts=job.max_attempts,
                        run_after=unix_now() + delay if delay else 0.0,
                        parent_id=parent_id)
        task = tasks_db.get(conn, task_id)
        conn.after_commit(lambda: dispatch(task, delay))
    return task
