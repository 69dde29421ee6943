"""SQL for events."""
from phopy.data import bibs as bibs_db
from phopy.data import line_bibs
from phopy.data import retention as retention_db
from phopy.data.search_sessions import delete_event_sessions
from phopy.data.timeutil import utc_now_iso

_COUNTS = """
    (SELECT COUNT(*) FROM photos p WHERE p.event_id = e.id) AS photo_count,
    (SELECT COUNT(*) FROM photo_checkpoints c WHERE c.event_id = e.id) AS scanned_count,
    (SELECT COUNT(*) FROM photo_checkpoints c WHERE c.event_id = e.id
        AND c.status = 'error') AS error_count,
    (SELECT COUNT(*) FROM faces f WHERE f.event_id = e.id) AS face_count
"""


def insert(conn, event):
    """Store a new event (a dict with the table's columns)."""
    conn.execute(
        "INSERT INTO events (id, code, owner_id, name, event_date, location, description, "
        "is_listed, auto_index, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event["id"], event["code"], event["owner_id"], event["name"], event.get("event_date"),
         event.get("location"), event.get("description"), int(bool(event.get("is_listed"))),
         int(bool(event.get("auto_index", True))), utc_now_iso()))


def code_exists(conn, code):
    """Whether an event already uses this attendee code."""
    return conn.scalar("SELECT 1 FROM events WHERE code = ?", (code,)) is not None


def get(conn, event_id):
    """One event with its photo, scan and face counts, or None."""
    return conn.one(f"SELECT e.*, {_COUNTS} FROM events e WHERE e.id = ?", (event_id,))


def get_by_code(conn, code):
    """The event with this attendee code, or None."""
    return conn.one(f"SELECT e.*, {_COUNTS} FROM events e WHERE e.code = ?", (code,))


def list_for_owner(conn, owner_id):
    """The photographer's events, newest first, with counts."""
    return conn.all(f"SELECT e.*, {_COUNTS} FROM events e WHERE e.owner_id = ? "
                    "ORDER BY e.created_at DESC, e.name", (owner_id,))


def list_public(conn):
    """Events their photographers chose to list, newest first."""
    return conn.all(f"SELECT e.*, {_COUNTS} FROM events e WHERE e.is_listed = 1 "
                    "ORDER BY COALESCE(e.event_date, e.created_at) DESC")


def update_settings(conn, event_id, *, is_listed=None, auto_index=None):
    """Change an event's listing or auto-index switch."""
    if is_listed is not None:
        conn.execute("UPDATE events SET is_listed = ? WHERE id = ?", (int(is_listed), event_id))
    if auto_index is not None:
        conn.execute("UPDATE events SET auto_index = ? WHERE id = ?", (int(auto_index), event_id))


def faces_version(conn, event_id):
    """The counter bumped whenever the event's faces change (None: no event)."""
    return conn.scalar("SELECT faces_version FROM events WHERE id = ?", (event_id,))


def delete(conn, event_id):
    """Delete an event; photos, faces, checkpoints, tasks and LINE registrations go with
    it, and so do its participants' selfie encodings when no other event needs them."""
    with conn.transaction():
        delete_event_sessions(conn, event_id)
        user_ids = retention_db.participant_ids(conn, event_id)
        bibs_db.delete_event_bibs(conn, event_id)  # readings, fixes, the start list
        line_bibs.delete_for_event(conn, event_id)  # bib numbers participants typed
        for table in ("faces", "photo_checkpoints", "tasks", "answer_totals",
                      "line_participants", "photos"):
            conn.execute(f"DELETE FROM {table} WHERE event_id = ?", (event_id,))
        conn.execute("DELETE FROM events WHERE id = ?", (event_id,))
        retention_db.forget_selfies_in_no_event(conn, user_ids)


def count_owner_events(conn, owner_id):
    """How many events the photographer has."""
    return conn.scalar("SELECT COUNT(*) FROM events WHERE owner_id = ?", (owner_id,))


def page_owner_events(conn, owner_id, limit, offset):
    """One page of the photographer's events, newest first, with counts."""
    return conn.all(f"SELECT e.*, {_COUNTS} FROM events e WHERE e.owner_id = ? "
                    "ORDER BY e.created_at DESC, e.id LIMIT ? OFFSET ?",
                    (owner_id, limit, offset))


def update_details(conn, event_id, fields):
    """Change some of an event's columns (names come from the service, never the client)."""
    allowed = {"name", "event_date", "location", "description", "is_listed", "auto_index"}
    names = [k for k in fields if k in allowed]
    if not names:
        return
    assignments = ", ".join(f"{k} = ?" for k in names)
    conn.execute(f"UPDATE events SET {assignments} WHERE id = ?",
                 [fields[k] for k in names] + [event_id])
