"""SQL that the health check and /metrics read: is the database there, queue and scan numbers."""


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
