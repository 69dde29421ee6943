"""SQL for periodic jobs: one lease row per schedule entry.

Whoever moves ``next_run_at`` forward with a compare-and-swap enqueues the
job, so exactly one process runs each due job however many runners poll.
"""


def ensure(conn, name, first_run_at):
    """Create the schedule row if it is missing."""
    conn.execute("INSERT INTO schedule_leases (name, next_run_at) VALUES (?, ?) "
                 "ON CONFLICT (name) DO NOTHING", (name, first_run_at))


def get(conn, name):
    """The schedule row, or None."""
    return conn.one("SELECT * FROM schedule_leases WHERE name = ?", (name,))


def take_if_due(conn, name, now, next_run_at, holder):
    """Move a due entry to ``next_run_at``; True when this caller took it."""
    cur = conn.execute("UPDATE schedule_leases SET next_run_at = ?, last_run_at = ?, holder = ? "
                       "WHERE name = ? AND next_run_at <= ?",
                       (next_run_at, now, holder, name, now))
    return cur.rowcount == 1


def list_all(conn):
    """Every schedule row."""
    return conn.all("SELECT * FROM schedule_leases ORDER BY name")
