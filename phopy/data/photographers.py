"""SQL for photographer accounts."""
from phopy.data.timeutil import utc_now_iso


def insert(conn, email, password_hash, display_name=None):
    """Create a photographer and return the new id."""
    return conn.scalar(
        "INSERT INTO photographers (email, password_hash, display_name, created_at) "
        "VALUES (?, ?, ?, ?) RETURNING id",
        (email, password_hash, display_name, utc_now_iso()))


def get_by_email(conn, email):
    """The photographer with this (normalised) email, or None."""
    return conn.one("SELECT * FROM photographers WHERE email = ?", (email,))


def get(conn, photographer_id):
    """The photographer with this id, or None."""
    return conn.one("SELECT * FROM photographers WHERE id = ?", (photographer_id,))
