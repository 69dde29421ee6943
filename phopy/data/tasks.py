"""SQL for background tasks: create, claim atomically, report progress, retry, finish.

A task is one run of a job kind (``phopy.jobs.registry``) with JSON arguments.
A runner claims a task with a compare-and-swap on ``claimed_by`` inside a write
transaction (on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``),
so exactly one runner works on a task even when several processes (web
workers, ``run-worker``, Celery workers) poll the same database. Tasks that
share a ``lock_key`` never run at the same time (an event's indexing, say).
"""
import json

from phopy.data.timeutil import unix_now, utc_now_iso


def insert(conn, task_id, event_id, kind="index", total=0, *, args=None, lock_key=None,
           max_attempts=5, run_after=0.0, parent_id=None):
    """Create a pending task (``parent_id``: the task it helps)."""
    conn.execute("INSERT INTO tasks (id, event_id, kind, args, lock_key, status, total, "
                 "max_attempts, run_after, parent_id, created_at, enqueued_at) "
                 "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
                 (task_id, event_id, kind, json.dumps(args or {}, sort_keys=True), lock_key,
                  total, max_attempts, run_after, parent_id, utc_now_iso(), unix_now()))


def get(conn, task_id):
    """One task, or None."""
    return conn.one("SELECT * FROM tasks WHERE id = ?", (task_id,))


def latest_for_event(conn, event_id, kind=None):
    """The event's most recent task (of ``kind`` when given), or None."""
    where, params = "event_id = ?", [event_id]
    if kind:
        where, params = where + " AND kind = ?", params + [kind]
    return conn.one(f"SELECT * FROM tasks WHERE {where} "
                    "ORDER BY created_at DESC, enqueued_at DESC LIMIT 1", params)


def pending_for_event(conn, event_id, kind="index"):
    """The event's queued (not yet claimed) task of this kind, or None."""
    return conn.one("SELECT * FROM tasks WHERE event_id = ? AND kind = ? AND status = 'pending' "
                    "ORDER BY created_at, enqueued_at LIMIT 1", (event_id, kind))


def pending_with_lock(conn, kind, lock_key):
    """A queued task of ``kind`` holding ``lock_key``, or None (to avoid queueing twice)."""
    return conn.one("SELECT * FROM tasks WHERE kind = ? AND lock_key = ? AND status = 'pending' "
                    "ORDER BY created_at, enqueued_at LIMIT 1", (kind, lock_key))


def children(conn, parent_id, statuses=None):
    """The tasks queued to help ``parent_id`` (of these statuses when given)."""
    where, params = "parent_id = ?", [parent_id]
    if statuses:
        where += f" AND status IN ({', '.join('?' * len(statuses))})"
        params += list(statuses)
    return conn.all(f"SELECT * FROM tasks WHERE {where} ORDER BY created_at, enqueued_at",
                    params)


def list_running(conn):
    """Every task marked running (some may belong to a dead runner)."""
    return conn.all("SELECT * FROM tasks WHERE status = 'running'")


def list_pending(conn, older_than=None, limit=500, queued_before=None):
    """Pending tasks that are due, oldest first (``older_than``: due before, unix;
    ``queued_before``: queued before, unix)."""
    now = unix_now()
    return conn.all("SELECT * FROM tasks WHERE status = 'pending' AND run_after <= ? "
                    "AND enqueued_at <= ? ORDER BY created_at, enqueued_at LIMIT ?",
                    (older_than or now, queued_before or now, limit))


def pending_with_lock_key(conn, lock_key):
    """Pending tasks waiting for ``lock_key``, oldest first."""
    return conn.all("SELECT * FROM tasks WHERE status = 'pending' AND lock_key = ? "
                    "ORDER BY created_at, enqueued_at", (lock_key,))


def queue_stats(conn):
    """{pending, running, oldest_pending_created_at} for health and metrics."""
    row = conn.one("SELECT SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending, "
                   "SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running, "
                   "MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest_pending "
                   "FROM tasks")
    return {"pending": row["pending"] or 0, "running": row["running"] or 0,
            "oldest_pending_created_at": row["oldest_pending"]}


def _kinds_clause(kinds):
    if not kinds:
        return "", []
    return f" AND t.kind IN ({', '.join('?' * len(kinds))})", list(kinds)


def _pending_candidates(conn, now, kind_sql, params, tries=5):
    """Due pending tasks whose lock key is not running, oldest first (a generator).

    SQLite: the claim's transaction holds the write lock, so reading five at once
    is safe. PostgreSQL: one row at a time ``FOR UPDATE SKIP LOCKED``, so
    concurrent claimers each lock a different row instead of one claimer
    locking (and hiding) all five.
    """
    sql = ("SELECT t.* FROM tasks t WHERE t.status = 'pending' AND t.run_after <= ?"
           f"{kind_sql} AND (t.lock_key IS NULL OR NOT EXISTS ("
           " SELECT 1 FROM tasks r WHERE r.lock_key = t.lock_key AND r.status = 'running'))")
    if conn.dialect != "postgresql":
        yield from conn.all(sql + f" ORDER BY t.created_at, t.enqueued_at LIMIT {tries}",
                            [now] + params)
        return
    tried = []
    for _ in range(tries):
        skip = f" AND t.id NOT IN ({', '.join('?' * len(tried))})" if tried else ""
        task = conn.one(sql + skip + " ORDER BY t.created_at, t.enqueued_at LIMIT 1 "
                        "FOR UPDATE SKIP LOCKED", [now] + params + tried)
        if task is None:
            return
        tried.append(task["id"])
        yield task


def claim(conn, runner_id, is_abandoned, kinds=None, task_id=None):
    """Claim the oldest claimable task for ``runner_id``; return it or None.

    Claimable: pending and due (``run_after``), with no running task holding
    the same ``lock_key``; or running but abandoned (``is_abandoned(task)``
    says its runner is gone). ``kinds`` limits the job kinds; ``task_id``
    claims that task only (a Celery message names its task).
    """
    kind_sql, kind_params = _kinds_clause(kinds)
    if task_id:
        kind_sql, kind_params = kind_sql + " AND t.id = ?", kind_params + [task_id]
    with conn.transaction():
        now = unix_now()
        for task in _pending_candidates(conn, now, kind_sql, kind_params):
            if _lock_key_free(conn, task) and _take(conn, task, runner_id, now):
                return get(conn, task["id"])
        running = list_running(conn)
        if kinds:
            running = [t for t in running if t["kind"] in kinds]
        if task_id:
            running = [t for t in running if t["id"] == task_id]
        for task in running:
            if is_abandoned(task) and _take(conn, task, runner_id, now):
                return get(conn, task["id"])
    return None


def _take(conn, task, runner_id, now):
    """Compare-and-swap the task to running for ``runner_id``; True when it worked."""
    cur = conn.execute(
        "UPDATE tasks SET status = 'running', claimed_by = ?, heartbeat_at = ?, "
        "run_started_at = ?, run_progress0 = progress, attempts = attempts + 1, "
        "started_at = COALESCE(started_at, ?), error = NULL "
        "WHERE id = ? AND status = ? AND COALESCE(claimed_by, '') = ?",
        (runner_id, now, now, utc_now_iso(), task["id"], task["status"],
         task["claimed_by"] or ""))
    return cur.rowcount == 1


def _lock_key_free(conn, task):
    """PostgreSQL: no other transaction is claiming, and no task is running, with this
    task's lock key. (SQLite's claim holds the database write lock, so the query
    above already saw every running task.) The advisory lock lasts until commit."""
    if conn.dialect != "postgresql" or not task["lock_key"] or task["status"] != "pending":
        return True
    if not conn.scalar("SELECT pg_try_advisory_xact_lock(hashtext(?))", (task["lock_key"],)):
        return False
    return not conn.scalar("SELECT COUNT(*) FROM tasks WHERE lock_key = ? AND status = 'running'",
                           (task["lock_key"],))


def heartbeat(conn, task_id, runner_id):
    """Say the runner is alive; False if the task is no longer ours."""
    cur = conn.execute("UPDATE tasks SET heartbeat_at = ? WHERE id = ? AND claimed_by = ? "
                       "AND status = 'running'", (unix_now(), task_id, runner_id))
    return cur.rowcount == 1


def update_progress(conn, task_id, runner_id, *, progress, total, current_item,
                    faces_found=None):
    """Store progress; False if the task is no longer ours (deleted or taken over)."""
    cur = conn.execute(
        "UPDATE tasks SET progress = ?, total = ?, current_item = ?, "
        "faces_found = COALESCE(?, faces_found), heartbeat_at = ? "
        "WHERE id = ? AND claimed_by = ? AND status = 'running'",
        (progress, total, current_item, faces_found, unix_now(), task_id, runner_id))
    return cur.rowcount == 1


def finish(conn, task_id, runner_id, status, error=None, result=None):
    """Mark the task completed or failed; False if it was no longer ours."""
    cur = conn.execute(
        "UPDATE tasks SET status = ?, error = ?, result = ?, finished_at = ?, "
        "current_item = NULL WHERE id = ? AND claimed_by = ? AND status = 'running'",
        (status, error, json.dumps(result) if result is not None else None, utc_now_iso(),
         task_id, runner_id))
    return cur.rowcount == 1


def retry_later(conn, task_id, runner_id, run_after, error):
    """Put a task that hit a transient error back in the queue, due at ``run_after``."""
    cur = conn.execute(
        "UPDATE tasks SET status = 'pending', claimed_by = NULL, run_after = ?, error = ?, "
        "current_item = NULL WHERE id = ? AND claimed_by = ? AND status = 'running'",
        (run_after, error, task_id, runner_id))
    return cur.rowcount == 1


def requeue(conn, task_id):
    """Put an interrupted task back in the queue (the dashboard's Resume)."""
    cur = conn.execute("UPDATE tasks SET status = 'pending', claimed_by = NULL, run_after = 0 "
                       "WHERE id = ? AND status IN ('running', 'failed')", (task_id,))
    return cur.rowcount == 1


def decode_args(task):
    """The task's keyword arguments as a dict."""
    return json.loads(task.get("args") or "{}")


def prune_finished(conn, before_unix):
    """Delete tasks finished before ``before_unix``, except each event's latest of each kind
    (an index task's helpers are queued after it); return count."""
    from datetime import datetime, timezone
    cutoff = datetime.fromtimestamp(before_unix, timezone.utc).replace(microsecond=0).isoformat()
    cur = conn.execute(
        "DELETE FROM tasks WHERE status IN ('completed', 'failed') AND finished_at < ? "
        "AND (event_id IS NULL OR created_at < (SELECT MAX(t2.created_at) FROM tasks t2 "
        "WHERE t2.event_id = tasks.event_id AND t2.kind = tasks.kind))", (cutoff,))
    return cur.rowcount
def events_needing_index(conn):
    """Events that index after upload, have unscanned photos and no open task
    (their upload was cut short before a task was queued)."""
    return [row["id"] for row in conn.all(
        "SELECT e.id FROM events e WHERE e.auto_index = 1 AND EXISTS ("
        " SELECT 1 FROM photos p LEFT JOIN photo_checkpoints c ON c.photo_id = p.id"
        " WHERE p.event_id = e.id AND c.photo_id IS NULL) AND NOT EXISTS ("
        " SELECT 1 FROM tasks t WHERE t.event_id = e.id AND t.status IN ('pending', 'running'))")]
