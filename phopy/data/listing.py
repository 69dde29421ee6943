"""SQL for the REST API: paged lists, event edits and queue numbers."""
from phopy.data.events import _COUNTS


def count_owner_events(conn, owner_id):
    """How many events the photographer has."""
    return conn.scalar("SELECT COUNT(*) FROM events WHERE owner_id = ?", (owner_id,))


def page_owner_events(conn, owner_id, limit, offset):
    """One page of the photographer's events, newest first, with counts."""
    return conn.all(f"SELECT e.*, {_COUNTS} FROM events e WHERE e.owner_id = ? "
                    "ORDER BY e.created_at DESC, e.id LIMIT ? OFFSET ?",
                    (owner_id, limit, offset))


def update_details(conn, event_id, fields):
    """Change some of an event's columns (names come from the service, never the client)."""
    allowed = {"name", "event_date", "location", "description", "is_listed", "auto_index"}
    names = [k for k in fields if k in allowed]
    if not names:
        return
    assignments = ", ".join(f"{k} = ?" for k in names)
    conn.execute(f"UPDATE events SET {assignments} WHERE id = ?",
                 [fields[k] for k in names] + [event_id])


def queue_stats(conn):
    """Pending tasks: how many, and the creation time (ISO) of the oldest."""
    row = conn.one("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM tasks "
                   "WHERE status = 'pending'")
    return row["n"], row["oldest"]


def task_counts(conn):
    """How many tasks there are in each status."""
    return {r["status"]: r["n"] for r in
            conn.all("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")}


def scan_counts(conn):
    """How many photos were scanned in each checkpoint status, and faces stored."""
    counts = {r["status"]: r["n"] for r in
              conn.all("SELECT status, COUNT(*) AS n FROM photo_checkpoints GROUP BY status")}
    return counts, conn.scalar("SELECT COUNT(*) FROM faces")


def ping(conn):
    """A trivial query: raises when the database is unreachable."""
    return conn.scalar("SELECT 1")
