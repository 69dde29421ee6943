"""SQL for API keys (only their SHA-256 is stored)."""
from phopy.data.timeutil import utc_now_iso


def insert(conn, photographer_id, name, prefix, key_hash):
    """Store a new key; return its id."""
    return conn.scalar(
        "INSERT INTO api_keys (photographer_id, name, prefix, key_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        (photographer_id, name, prefix, key_hash, utc_now_iso()))


def get(conn, key_id):
    """One key row, or None."""
    return conn.one("SELECT * FROM api_keys WHERE id = ?", (key_id,))


def find_active_by_hash(conn, key_hash):
    """The key row with this hash that is not revoked, or None."""
    return conn.one("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                    (key_hash,))


def list_for_owner(conn, photographer_id):
    """The photographer's keys, newest first (hashes left out)."""
    return conn.all("SELECT id, name, prefix, created_at, last_used_at, revoked_at "
                    "FROM api_keys WHERE photographer_id = ? ORDER BY id DESC",
                    (photographer_id,))


def touch(conn, key_id):
    """Record that the key was just used."""
    conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (utc_now_iso(), key_id))


def revoke(conn, key_id, photographer_id):
    """Revoke the photographer's key; False if it is not theirs or already revoked."""
    cur = conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND photographer_id = ? "
                       "AND revoked_at IS NULL", (utc_now_iso(), key_id, photographer_id))
    return cur.rowcount == 1
