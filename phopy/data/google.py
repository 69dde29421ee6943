"""SQL for Google accounts, Drive-linked events and the Drive files they saw."""
from phopy.data.timeutil import utc_now_iso


# -- accounts -------------------------------------------------------------------
def get_by_sub(conn, google_sub):
    """The photographer signed in with this Google account, or None."""
    return conn.one("SELECT * FROM photographers WHERE google_sub = ?", (google_sub,))


def bind_sub(conn, photographer_id, google_sub):
    """Remember which Google account signs this photographer in, only while none does
    yet (a binding never changes); True when this call bound it."""
    return conn.scalar("UPDATE photographers SET google_sub = ? WHERE id = ? "
                       "AND google_sub IS NULL RETURNING id",
                       (google_sub, photographer_id)) is not None


def insert_google_photographer(conn, email, display_name, google_sub):
    """A new photographer without a password; return the id."""
    return conn.scalar(
        "INSERT INTO photographers (email, password_hash, display_name, google_sub, created_at) "
        "VALUES (?, NULL, ?, ?, ?) RETURNING id", (email, display_name, google_sub, utc_now_iso()))


def save_grant(conn, photographer_id, google_sub, email, refresh_token_enc, scopes):
    """Store (or replace) the photographer's encrypted Drive refresh token."""
    now = utc_now_iso()
    conn.execute(
        "INSERT INTO google_accounts (photographer_id, google_sub, email, refresh_token, scopes, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (photographer_id) "
        "DO UPDATE SET google_sub = excluded.google_sub, email = excluded.email, "
        "refresh_token = excluded.refresh_token, scopes = excluded.scopes, "
        "updated_at = excluded.updated_at",
        (photographer_id, google_sub, email, refresh_token_enc, scopes, now, now))


def get_grant(conn, photographer_id):
    """The photographer's Drive grant row, or None."""
    return conn.one("SELECT * FROM google_accounts WHERE photographer_id = ?", (photographer_id,))


def delete_grant(conn, photographer_id):
    """Forget the photographer's Drive grant."""
    conn.execute("DELETE FROM google_accounts WHERE photographer_id = ?", (photographer_id,))


# -- links ----------------------------------------------------------------------
def save_link(conn, event_id, photographer_id, folder_id, folder_name, include_subfolders, mode):
    """Link the event to a folder (replacing an earlier link; its files are kept)."""
    conn.execute(
        "INSERT INTO drive_links (event_id, photographer_id, folder_id, folder_name, "
        "include_subfolders, mode, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'ok', ?) "
        "ON CONFLICT (event_id) DO UPDATE SET photographer_id = excluded.photographer_id, "
        "folder_id = excluded.folder_id, folder_name = excluded.folder_name, "
        "include_subfolders = excluded.include_subfolders, mode = excluded.mode, "
        "page_token = NULL, status = 'ok', error_reason = NULL, error_detail = NULL",
        (event_id, photographer_id, folder_id, folder_name, int(bool(include_subfolders)), mode,
         utc_now_iso()))


def get_link(conn, event_id):
    """The event's Drive link, or None."""
    return conn.one("SELECT * FROM drive_links WHERE event_id = ?", (event_id,))


def delete_link(conn, event_id):
    """Unlink the event (its photos stay)."""
    conn.execute("DELETE FROM drive_links WHERE event_id = ?", (event_id,))


def active_links(conn):
    """Links whose scheduled sync is on: not paused, and their event still open."""
    return conn.all("SELECT l.* FROM drive_links l JOIN events e ON e.id = l.event_id "
                    "WHERE l.status = 'ok' AND e.closed_at IS NULL ORDER BY l.event_id")


def links_of(conn, photographer_id):
    """The photographer's linked events."""
    return conn.all("SELECT * FROM drive_links WHERE photographer_id = ?", (photographer_id,))


def pause_link(conn, event_id, reason, detail):
    """Stop scheduled syncs and say why."""
    conn.execute("UPDATE drive_links SET status = 'paused', error_reason = ?, error_detail = ? "
                 "WHERE event_id = ?", (reason, (detail or "")[:500], event_id))


def resume_links(conn, photographer_id):
    """Turn scheduled syncs back on after a reconnect."""
    conn.execute("UPDATE drive_links SET status = 'ok', error_reason = NULL, "
                 "error_detail = NULL WHERE photographer_id = ?", (photographer_id,))


def finish_sync(conn, event_id, page_token, result_json):
    """Record a finished sync and the page token for the next one."""
    conn.execute("UPDATE drive_links SET page_token = ?, last_sync_at = ?, last_result = ?, "
                 "status = 'ok', error_reason = NULL, error_detail = NULL WHERE event_id = ?",
                 (page_token, utc_now_iso(), result_json, event_id))


# -- files ----------------------------------------------------------------------
def known_files(conn, event_id):
    """file id -> row for every Drive file the event has seen."""
    return {row["file_id"]: row for row in
            conn.all("SELECT * FROM drive_files WHERE event_id = ?", (event_id,))}


def record_file(conn, event_id, file_id, name, md5, photo_id, status, error=None):
    """Remember a Drive file's outcome (called in the photo's transaction)."""
    conn.execute(
        "INSERT INTO drive_files (event_id, file_id, name, md5, photo_id, status, error, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, file_id) DO UPDATE "
        "SET name = excluded.name, md5 = excluded.md5, photo_id = excluded.photo_id, "
        "status = excluded.status, error = excluded.error, updated_at = excluded.updated_at",
        (event_id, file_id, name, md5, photo_id, status, (error or "")[:500] or None,
         utc_now_iso()))


def forget_file(conn, event_id, file_id):
    """Forget a Drive file that is gone."""
    conn.execute("DELETE FROM drive_files WHERE event_id = ? AND file_id = ?", (event_id, file_id))


def photo_still_used(conn, event_id, photo_id, except_file):
    """True when another Drive file of the event maps to this photo."""
    return conn.scalar("SELECT COUNT(*) FROM drive_files WHERE event_id = ? AND photo_id = ? "
                       "AND file_id != ?", (event_id, photo_id, except_file)) > 0


def failed_files(conn, event_id, limit=50):
    """Drive files that could not be imported, with their error."""
    return conn.all("SELECT file_id, name, error FROM drive_files WHERE event_id = ? AND "
                    "status IN ('failed', 'rejected') ORDER BY name LIMIT ?", (event_id, limit))


def count_failed(conn, event_id):
    """How many of the event's Drive files failed to download (retried next sync)."""
    return conn.scalar("SELECT COUNT(*) FROM drive_files WHERE event_id = ? AND "
                       "status = 'failed'", (event_id,))


def forget_files(conn, event_id):
    """Forget every Drive file of the event (it is linked to another folder now)."""
    conn.execute("DELETE FROM drive_files WHERE event_id = ?", (event_id,))
