"""SQL for job runners' heartbeats (read by GET /health)."""
from phopy.data.timeutil import unix_now


def beat(conn, runner_id, host, pid, started_at):
    """Insert or refresh the runner's row with the time now."""
    now = unix_now()
    conn.execute(
        "INSERT INTO runners (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        (runner_id, host, pid, started_at, now))


def latest(conn):
    """The runner that sent the most recent heartbeat, or None."""
    return conn.one("SELECT * FROM runners ORDER BY heartbeat_at DESC LIMIT 1")


def forget_older_than(conn, unix_time):
    """Delete runners silent since before ``unix_time``."""
    conn.execute("DELETE FROM runners WHERE heartbeat_at < ?", (unix_time,))
