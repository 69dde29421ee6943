"""SQL for closing events and purging their face data after the retention period."""
from phopy.data.search_sessions import delete_event_sessions
from phopy.data.timeutil import utc_now_iso


def mark_closed(conn, event_id):
    """Set the event's closed time once."""
    conn.execute("UPDATE events SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                 (utc_now_iso(), event_id))


def reopen(conn, event_id):
    """Clear the closed time of an event whose faces are still kept."""
    conn.execute("UPDATE events SET closed_at = NULL WHERE id = ? AND faces_purged_at IS NULL",
                 (event_id,))


def set_retention_days(conn, event_id, days):
    """The event's own retention (None: the default)."""
    conn.execute("UPDATE events SET face_retention_days = ? WHERE id = ?", (days, event_id))


def closed_unpurged(conn):
    """Closed events whose face data is still kept: id, closed_at, face_retention_days."""
    return conn.all("SELECT id, closed_at, face_retention_days FROM events "
                    "WHERE closed_at IS NOT NULL AND faces_purged_at IS NULL")


def purge_faces(conn, event_id):
    """Delete the event's face encodings (checkpoints stay: no re-indexing) and its
    participants, and mark it purged; the caller holds the transaction."""
    conn.execute("DELETE FROM faces WHERE event_id = ?", (event_id,))
    delete_event_sessions(conn, event_id)  # "is this you?" sessions hold selfie encodings
    conn.execute("DELETE FROM line_participants WHERE event_id = ?", (event_id,))
    conn.execute("UPDATE events SET faces_purged_at = ?, faces_version = faces_version + 1, "
                 "faces_removed = faces_removed + 1 "
                 "WHERE id = ?", (utc_now_iso(), event_id))
    # Selfie encodings of LINE users left in no event are no longer needed.
    conn.execute(
        "UPDATE line_users SET face_encoding = NULL, encoded_at = NULL "
        "WHERE face_encoding IS NOT NULL AND NOT EXISTS (SELECT 1 FROM line_participants p "
        "WHERE p.user_id = line_users.user_id) AND EXISTS (SELECT 1 FROM line_matches m "
        "WHERE m.user_id = line_users.user_id AND m.event_id = ?)", (event_id,))
