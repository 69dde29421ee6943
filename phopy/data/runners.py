"""SQL for heartbeats of job runners, Celery workers and beat (read by GET /health).

Every time is the database's clock, never the machine's: machines whose clocks
disagree still agree on how long ago a heartbeat was.
"""

# role: "runner" (the in-process runner, or a Celery worker during a task),
# "worker" (a Celery worker's timer), "beat" (Celery Beat).
ROLES = ("runner", "worker", "beat")


def now_sql(conn):
    """An SQL expression for the database's clock, in unix seconds."""
    if conn.dialect == "postgresql":
        return "EXTRACT(EPOCH FROM clock_timestamp())::double precision"
    return "((julianday('now') - 2440587.5) * 86400.0)"


def database_now(conn):
    """The database's clock now, in unix seconds."""
    return float(conn.scalar(f"SELECT {now_sql(conn)} AS now"))


def beat(conn, runner_id, host, pid, started_at, role="runner"):
    """Insert or refresh the runner's row with the database's time now."""
    now = now_sql(conn)
    conn.execute(
        "INSERT INTO runners (id, host, pid, started_at, heartbeat_at, role) "
        f"VALUES (?, ?, ?, ?, {now}, ?) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        (runner_id, host, pid, started_at, role))


def forget(conn, runner_id):
    """Delete one runner's row (it stopped cleanly)."""
    conn.execute("DELETE FROM runners WHERE id = ?", (runner_id,))


def latest(conn, roles=ROLES):
    """The most recent heartbeat among ``roles``, with its age in seconds, or None."""
    marks = ", ".join("?" * len(roles))
    return conn.one(f"SELECT id, role, heartbeat_at, {now_sql(conn)} - heartbeat_at AS age "
                    f"FROM runners WHERE role IN ({marks}) ORDER BY heartbeat_at DESC LIMIT 1",
                    tuple(roles))


def forget_older_than(conn, unix_time):
    """Delete runners silent since before ``unix_time``."""
    conn.execute("DELETE FROM runners WHERE heartbeat_at < ?", (unix_time,))


def forget_silent_for(conn, seconds):
    """Delete runners silent for more than ``seconds`` by the database's clock."""
    conn.execute(f"DELETE FROM runners WHERE heartbeat_at < {now_sql(conn)} - ?", (seconds,))
