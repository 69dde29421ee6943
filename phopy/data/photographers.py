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


def insert_login_session(conn, session_id, photographer_id):
    """Record a signed-in browser."""
    conn.execute("INSERT INTO login_sessions (id, photographer_id, created_at) VALUES (?, ?, ?)",
                 (session_id, photographer_id, utc_now_iso()))


def get_by_login_session(conn, session_id, photographer_id):
    """The photographer signed in by this session, or None once it was ended."""
    return conn.one("SELECT p.* FROM login_sessions s JOIN photographers p "
                    "ON p.id = s.photographer_id WHERE s.id = ? AND p.id = ?",
                    (session_id, photographer_id))


def delete_login_session(conn, session_id):
    """End one signed-in browser."""
    conn.execute("DELETE FROM login_sessions WHERE id = ?", (session_id,))


def delete(conn, photographer_id):
    """Delete the account; its keys, sessions, Google and LINE links go with it (the
    schema's ON DELETE). The caller deletes its events first (their files)."""
    conn.execute("DELETE FROM photographers WHERE id = ?", (photographer_id,))
