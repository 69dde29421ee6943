"""SQL for background tasks: create, claim atomically, report progress, finish.

A runner claims a task with a compare-and-swap on ``claimed_by`` inside a write
transaction, so exactly one runner works on a task even when several web
processes poll the same database.
"""
from phopy.data.timeutil import unix_now, utc_now_iso


def insert(conn, task_id, event_id, kind="index", total=0):
    """Create a pending task."""
    conn.execute("INSERT INTO tasks (id, event_id, kind, status, total, created_at) "
                 "VALUES (?, ?, ?, 'pending', ?, ?)",
                 (task_id, event_id, kind, total, utc_now_iso()))


def get(conn, task_id):
    """One task, or None."""
    return conn.one("SELECT * FROM tasks WHERE id = ?", (task_id,))


def latest_for_event(conn, event_id):
    """The event's most recent task, or None."""
    return conn.one("SELECT * FROM tasks WHERE event_id = ? ORDER BY created_at DESC, "
                    "rowid DESC LIMIT 1" if conn.dialect == "sqlite" else
                    "SELECT * FROM tasks WHERE event_id = ? ORDER BY created_at DESC LIMIT 1",
                    (event_id,))


def pending_for_event(conn, event_id, kind="index"):
    """The event's queued (not yet claimed) task of this kind, or None."""
    return conn.one("SELECT * FROM tasks WHERE event_id = ? AND kind = ? AND status = 'pending' "
                    "ORDER BY created_at LIMIT 1", (event_id, kind))


def list_running(conn):
    """Every task marked running (some may belong to a dead runner)."""
    return conn.all("SELECT * FROM tasks WHERE status = 'running'")


def claim(conn, runner_id, is_abandoned):
    """Claim the oldest claimable task for ``runner_id``; return it or None.

    Claimable: pending, with no other task of the same event running, or
    running but abandoned (``is_abandoned(task)`` says its runner is gone).
    """
    with conn.transaction():
        candidates = conn.all(
            "SELECT t.* FROM tasks t WHERE t.status = 'pending' AND NOT EXISTS ("
            " SELECT 1 FROM tasks r WHERE r.event_id = t.event_id AND r.status = 'running')"
            " ORDER BY t.created_at LIMIT 5")
        candidates += [t for t in list_running(conn) if is_abandoned(t)]
        for task in candidates:
            now = unix_now()
            cur = conn.execute(
                "UPDATE tasks SET status = 'running', claimed_by = ?, heartbeat_at = ?, "
                "run_started_at = ?, run_progress0 = progress, attempts = attempts + 1, "
                "started_at = COALESCE(started_at, ?), error = NULL "
                "WHERE id = ? AND status = ? AND COALESCE(claimed_by, '') = ?",
                (runner_id, now, now, utc_now_iso(), task["id"], task["status"],
                 task["claimed_by"] or ""))
            if cur.rowcount == 1:
                return get(conn, task["id"])
    return None


def heartbeat(conn, task_id, runner_id):
    """Say the runner is alive; False if the task is no longer ours."""
    cur = conn.execute("UPDATE tasks SET heartbeat_at = ? WHERE id = ? AND claimed_by = ? "
                       "AND status = 'running'", (unix_now(), task_id, runner_id))
    return cur.rowcount == 1


def update_progress(conn, task_id, runner_id, *, progress, total, current_item,
                    faces_found):
    """Store progress; False if the task is no longer ours (deleted or taken over)."""
    cur = conn.execute(
        "UPDATE tasks SET progress = ?, total = ?, current_item = ?, faces_found = ?, "
        "heartbeat_at = ? WHERE id = ? AND claimed_by = ? AND status = 'running'",
        (progress, total, current_item, faces_found, unix_now(), task_id, runner_id))
    return cur.rowcount == 1


def finish(conn, task_id, runner_id, status, error=None):
    """Mark the task completed or failed."""
    conn.execute("UPDATE tasks SET status = ?, error = ?, finished_at = ?, current_item = NULL "
                 "WHERE id = ? AND claimed_by = ?",
                 (status, error, utc_now_iso(), task_id, runner_id))


def requeue(conn, task_id):
    """Put an interrupted task back in the queue (the dashboard's Resume)."""
    cur = conn.execute("UPDATE tasks SET status = 'pending', claimed_by = NULL "
                       "WHERE id = ? AND status IN ('running', 'failed')", (task_id,))
    return cur.rowcount == 1


def events_needing_index(conn):
    """Events that index after upload, have unscanned photos and no open task
    (their upload was cut short before a task was queued)."""
    return [row["id"] for row in conn.all(
        "SELECT e.id FROM events e WHERE e.auto_index = 1 AND EXISTS ("
        " SELECT 1 FROM photos p LEFT JOIN photo_checkpoints c ON c.photo_id = p.id"
        " WHERE p.event_id = e.id AND c.photo_id IS NULL) AND NOT EXISTS ("
        " SELECT 1 FROM tasks t WHERE t.event_id = e.id AND t.status IN ('pending', 'running'))")]
