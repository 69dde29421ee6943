"""SQL for closing events and purging their face data after the retention period."""
from phopy.data import bibs as bibs_db
from phopy.data import line_bibs
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
    """Delete the event's face encodings (checkpoints stay: no re-indexing), its bib
    readings, fixes and start list, and its participants with the bib numbers they
    typed, and mark it purged; the caller holds the transaction.

    Its participants' selfie encodings go too unless they joined another event
    whose face data is still kept."""
    user_ids = participant_ids(conn, event_id)
    conn.execute("DELETE FROM faces WHERE event_id = ?", (event_id,))
    bibs_db.delete_personal(conn, event_id)  # bib readings, fixes and the start list
    delete_event_sessions(conn, event_id)  # "is this you?" sessions hold selfie encodings
    line_bibs.delete_for_event(conn, event_id)
    conn.execute("DELETE FROM line_participants WHERE event_id = ?", (event_id,))
    conn.execute("UPDATE events SET faces_purged_at = ?, faces_version = faces_version + 1, "
                 "faces_removed = faces_removed + 1 "
                 "WHERE id = ?", (utc_now_iso(), event_id))
    forget_selfies_in_no_event(conn, user_ids)


def participant_ids(conn, event_id):
    """The LINE users who joined the event."""
    return [r["user_id"] for r in conn.all(
        "SELECT user_id FROM line_participants WHERE event_id = ?", (event_id,))]


# A selfie is needed while its user is in an event whose face data is kept.
_IN_NO_KEPT_EVENT = (
    "NOT EXISTS (SELECT 1 FROM line_participants p JOIN events e ON e.id = p.event_id "
    "WHERE p.user_id = line_users.user_id AND e.faces_purged_at IS NULL)")
_FORGET_SELFIE = "UPDATE line_users SET face_encoding = NULL, face_engine = NULL, " \
                 "encoded_at = NULL WHERE face_encoding IS NOT NULL AND " + _IN_NO_KEPT_EVENT


def forget_selfies_in_no_event(conn, user_ids):
    """Delete the selfie encodings of these LINE users who are left in no event whose
    face data is kept (their event was purged or deleted)."""
    for user_id in user_ids:
        conn.execute(_FORGET_SELFIE + " AND user_id = ?", (user_id,))


def expire_selfies(conn, sent_before):
    """Delete selfie encodings sent before ``sent_before`` (ISO time) whose user is in
    no event whose face data is kept; return how many."""
    cur = conn.execute(_FORGET_SELFIE + " AND (encoded_at IS NULL OR encoded_at < ?)",
                       (sent_before,))
    return cur.rowcount
