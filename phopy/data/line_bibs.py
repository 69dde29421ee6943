"""SQL for the bib numbers LINE participants typed to the bot (``line_bibs``).

A participant's bib of an event is remembered so that photos of it read later
reach them ("found you"). The rows go with "delete my data" and unfollow
(:func:`delete_for_user`), the event's face-data purge and the event's deletion
(:func:`delete_for_event`).
"""
from phopy.data.timeutil import utc_now_iso


def remember(conn, event_id, user_id, bib, keep):
    """Remember the bib for the user and event (again: it becomes the newest), keeping
    the user's ``keep`` newest bibs of the event."""
    with conn.transaction():
        conn.execute("INSERT INTO line_bibs (event_id, user_id, bib, created_at) "
                     "VALUES (?, ?, ?, ?) ON CONFLICT (event_id, user_id, bib) "
                     "DO UPDATE SET created_at = excluded.created_at",
                     (event_id, user_id, bib, utc_now_iso()))
        for old in bibs_of(conn, event_id, user_id)[keep:]:
            conn.execute("DELETE FROM line_bibs WHERE event_id = ? AND user_id = ? AND bib = ?",
                         (event_id, user_id, old))


def bibs_of(conn, event_id, user_id):
    """The user's bibs of the event, newest first."""
    return [r["bib"] for r in conn.all(
        "SELECT bib FROM line_bibs WHERE event_id = ? AND user_id = ? "
        "ORDER BY created_at DESC, bib", (event_id, user_id))]


def for_event(conn, event_id):
    """(user_id, bib, language) of the event's participants' bibs, one row per bib."""
    return conn.all("SELECT b.user_id, b.bib, u.language FROM line_bibs b "
                    "JOIN line_participants p ON p.event_id = b.event_id "
                    "AND p.user_id = b.user_id "
                    "JOIN line_users u ON u.user_id = b.user_id "
                    "WHERE b.event_id = ? ORDER BY b.user_id, b.created_at DESC, b.bib",
                    (event_id,))


def delete_for_user(conn, user_id):
    """Forget every bib the user typed (the caller holds the transaction)."""
    conn.execute("DELETE FROM line_bibs WHERE user_id = ?", (user_id,))


def delete_for_event(conn, event_id):
    """Forget the bibs typed for the event (the caller holds the transaction)."""
    conn.execute("DELETE FROM line_bibs WHERE event_id = ?", (event_id,))
