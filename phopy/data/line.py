"""SQL for the LINE Official Account: users, groups, tokens, outbox, participants."""
import json
from datetime import datetime, timezone

from phopy.data import line_bibs
from phopy.data.timeutil import unix_now, utc_now_iso


# -- webhook events -----------------------------------------------------------
def claim_webhook_event(conn, webhook_event_id):
    """Record a webhook event id; False when it was already taken (a redelivery)."""
    cur = conn.execute("INSERT INTO line_webhook_events (webhook_event_id, received_at) "
                       "VALUES (?, ?) ON CONFLICT (webhook_event_id) DO NOTHING",
                       (webhook_event_id, utc_now_iso()))
    return cur.rowcount == 1


# -- users --------------------------------------------------------------------
def get_user(conn, user_id):
    """The LINE user row, or None."""
    return conn.one("SELECT * FROM line_users WHERE user_id = ?", (user_id,))


def upsert_user(conn, user_id, display_name=None, language=None):
    """Create the user row, or refresh its name and language."""
    conn.execute(
        "INSERT INTO line_users (user_id, display_name, language, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
        "display_name = COALESCE(excluded.display_name, line_users.display_name), "
        "language = COALESCE(excluded.language, line_users.language)",
        (user_id, display_name, language, utc_now_iso()))


def set_user_photographer(conn, user_id, photographer_id):
    """Make the LINE user the operator of this photographer account."""
    conn.execute("UPDATE line_users SET photographer_id = ? WHERE user_id = ?",
                 (photographer_id, user_id))


def users_for_photographer(conn, photographer_id):
    """Every LINE user operating this photographer account, oldest first."""
    return conn.all("SELECT * FROM line_users WHERE photographer_id = ? "
                    "ORDER BY created_at, user_id", (photographer_id,))


def unlink_user(conn, user_id, photographer_id=None):
    """The LINE user stops operating (this) account: False when they did not.

    Their unused 'add group' tokens die with it (a token carries the account)."""
    with conn.transaction():
        sql = "UPDATE line_users SET photographer_id = NULL WHERE user_id = ? " \
              "AND photographer_id IS NOT NULL"
        params = [user_id]
        if photographer_id is not None:
            sql += " AND photographer_id = ?"
            params.append(photographer_id)
        cur = conn.execute(sql, params)
        if cur.rowcount != 1:
            return False
        conn.execute("UPDATE line_tokens SET used_at = ? WHERE user_id = ? AND kind = 'group' "
                     "AND used_at IS NULL", (utc_now_iso(), user_id))
        return True


def code_misses(conn, user_id, since):
    """Wrong event codes the user typed in the window that began after ``since``."""
    return conn.scalar("SELECT CASE WHEN code_misses_since >= ? THEN code_misses ELSE 0 END "
                       "FROM line_users WHERE user_id = ?", (since, user_id)) or 0


def record_code_miss(conn, user_id, since):
    """Count one wrong code (a new window when the last began before ``since``)."""
    now = unix_now()
    conn.execute("UPDATE line_users SET "
                 "code_misses = CASE WHEN code_misses_since >= ? THEN code_misses + 1 ELSE 1 "
                 "END, code_misses_since = CASE WHEN code_misses_since >= ? "
                 "THEN code_misses_since ELSE ? END WHERE user_id = ?",
                 (since, since, now, user_id))


def set_face(conn, user_id, blob, engine=None):
    """Store (or, with None, forget) the user's selfie encoding and the engine that made it."""
    conn.execute("UPDATE line_users SET face_encoding = ?, face_engine = ?, encoded_at = ? "
                 "WHERE user_id = ?",
                 (conn.blob(blob) if blob is not None else None,
                  engine if blob is not None else None,
                  utc_now_iso() if blob is not None else None, user_id))


def delete_user_data(conn, user_id):
    """Forget the user's face, participations, matches, the bib numbers they typed and
    the messages to them, sent or not (the account row stays)."""
    with conn.transaction():
        conn.execute("DELETE FROM line_matches WHERE user_id = ?", (user_id,))
        line_bibs.delete_for_user(conn, user_id)
        conn.execute("DELETE FROM line_participants WHERE user_id = ?", (user_id,))
        conn.execute("DELETE FROM line_outbox WHERE to_id = ?", (user_id,))
        set_face(conn, user_id, None)


# -- one-time tokens ----------------------------------------------------------
def insert_token(conn, token, kind, ttl_seconds, photographer_id=None, user_id=None):
    """Store a one-time token valid for ``ttl_seconds``."""
    conn.execute("INSERT INTO line_tokens (token, kind, photographer_id, user_id, expires_at) "
                 "VALUES (?, ?, ?, ?, ?)",
                 (token, kind, photographer_id, user_id, unix_now() + ttl_seconds))


def peek_token(conn, token, kind):
    """A valid (unused, unexpired) token, without using it; None otherwise."""
    return conn.one("SELECT * FROM line_tokens WHERE token = ? AND kind = ? "
                    "AND used_at IS NULL AND expires_at > ?", (token, kind, unix_now()))


def use_token(conn, token, kind):
    """Mark a valid token used and return it; None when unknown, used or expired."""
    with conn.transaction():
        row = conn.one("SELECT * FROM line_tokens WHERE token = ? AND kind = ? "
                       "AND used_at IS NULL AND expires_at > ?", (token, kind, unix_now()))
        if row is None:
            return None
        conn.execute("UPDATE line_tokens SET used_at = ? WHERE token = ?",
                     (utc_now_iso(), token))
        return row


def latest_open_token(conn, kind, user_id):
    """The user's newest unused, unexpired token of this kind, or None."""
    return conn.one("SELECT * FROM line_tokens WHERE kind = ? AND user_id = ? "
                    "AND used_at IS NULL AND expires_at > ? ORDER BY expires_at DESC",
                    (kind, user_id, unix_now()))


# -- groups -------------------------------------------------------------------
def upsert_group(conn, group_id, name=None):
    """Remember a group the bot is in."""
    conn.execute("INSERT INTO line_groups (group_id, name, joined_at) VALUES (?, ?, ?) "
                 "ON CONFLICT (group_id) DO UPDATE SET "
                 "name = COALESCE(excluded.name, line_groups.name)",
                 (group_id, name, utc_now_iso()))


def get_group(conn, group_id):
    """The group row, or None."""
    return conn.one("SELECT * FROM line_groups WHERE group_id = ?", (group_id,))


def link_group(conn, group_id, photographer_id, user_id):
    """Link the group to a photographer account; False (nothing changed) when it
    belongs to another account: a group never moves without being unlinked first."""
    cur = conn.execute(
        "UPDATE line_groups SET photographer_id = ?, linked_by = ?, linked_at = ? "
        "WHERE group_id = ? AND (photographer_id IS NULL OR photographer_id = ?)",
        (photographer_id, user_id, utc_now_iso(), group_id, photographer_id))
    return cur.rowcount == 1


def unlink_group(conn, group_id, photographer_id):
    """Free the group from this account; False when it was not this account's."""
    cur = conn.execute("UPDATE line_groups SET photographer_id = NULL, linked_by = NULL, "
                       "linked_at = NULL WHERE group_id = ? AND photographer_id = ?",
                       (group_id, photographer_id))
    return cur.rowcount == 1


# -- events started in groups -------------------------------------------------
def set_photos_from(conn, event_id, photos_from):
    """Whose photos in the group go into the event: 'operators' or 'everyone'."""
    conn.execute("UPDATE line_event_groups SET photos_from = ? WHERE event_id = ?",
                 (photos_from, event_id))


def matched_user_ids(conn, event_id):
    """The users found in photos of the event."""
    return [r["user_id"] for r in conn.all(
        "SELECT DISTINCT user_id FROM line_matches WHERE event_id = ?", (event_id,))]


def insert_event_group(conn, event_id, group_id, user_id):
    """Record that the event runs in this group, open from now."""
    conn.execute("INSERT INTO line_event_groups (event_id, group_id, started_by, opened_at) "
                 "VALUES (?, ?, ?, ?)", (event_id, group_id, user_id, unix_now()))


def open_event_for_group(conn, group_id):
    """The group's open event (with its LINE columns), or None."""
    return conn.one(
        "SELECT e.*, g.group_id, g.opened_at, g.last_photo_at, g.photos_from "
        "FROM line_event_groups g "
        "JOIN events e ON e.id = g.event_id WHERE g.group_id = ? AND g.closed_at IS NULL",
        (group_id,))


def event_group(conn, event_id):
    """The LINE row of an event, or None (a web event)."""
    return conn.one("SELECT * FROM line_event_groups WHERE event_id = ?", (event_id,))


def touch_last_photo(conn, event_id):
    """A photo arrived now."""
    conn.execute("UPDATE line_event_groups SET last_photo_at = ? WHERE event_id = ?",
                 (unix_now(), event_id))


def close_event_group(conn, event_id):
    """Close the LINE side of an event; False when it was already closed."""
    cur = conn.execute("UPDATE line_event_groups SET closed_at = ? "
                       "WHERE event_id = ? AND closed_at IS NULL", (unix_now(), event_id))
    return cur.rowcount == 1


def idle_open_events(conn, idle_seconds):
    """Open group events whose last photo (or start) is older than ``idle_seconds``."""
    return conn.all("SELECT event_id FROM line_event_groups WHERE closed_at IS NULL "
                    "AND COALESCE(last_photo_at, opened_at) < ?", (unix_now() - idle_seconds,))


# -- images -------------------------------------------------------------------
def get_image(conn, message_id):
    """The row of a LINE image message already handled, or None."""
    return conn.one("SELECT * FROM line_images WHERE message_id = ?", (message_id,))


def record_image(conn, message_id, event_id, group_id, photo_id, status):
    """Remember what became of an image message (once)."""
    conn.execute("INSERT INTO line_images (message_id, event_id, group_id, photo_id, status, "
                 "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
                 (message_id, event_id, group_id, photo_id, status, utc_now_iso()))


# -- participants and matches -------------------------------------------------
def add_participant(conn, event_id, user_id):
    """Join the user to the event; False when already in."""
    cur = conn.execute("INSERT INTO line_participants (event_id, user_id, joined_at) "
                       "VALUES (?, ?, ?) ON CONFLICT (event_id, user_id) DO NOTHING",
                       (event_id, user_id, utc_now_iso()))
    return cur.rowcount == 1


def participants_with_faces(conn, event_id):
    """The event's participants that have a selfie encoding."""
    return conn.all("SELECT p.*, u.face_encoding, u.face_engine, u.language "
                    "FROM line_participants p "
                    "JOIN line_users u ON u.user_id = p.user_id "
                    "WHERE p.event_id = ? AND u.face_encoding IS NOT NULL", (event_id,))


def participants(conn, event_id):
    """Every participant of the event, with language."""
    return conn.all("SELECT p.*, u.language FROM line_participants p JOIN line_users u "
                    "ON u.user_id = p.user_id WHERE p.event_id = ?", (event_id,))


def count_participants(conn, event_id):
    """How many users joined the event."""
    return conn.scalar("SELECT COUNT(*) FROM line_participants WHERE event_id = ?", (event_id,))


def add_matches(conn, event_id, user_id, photo_ids):
    """Record photos the user was found in; return how many were new."""
    new = 0
    for photo_id in photo_ids:
        cur = conn.execute("INSERT INTO line_matches (event_id, user_id, photo_id, found_at) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (event_id, user_id, photo_id) "
                           "DO NOTHING", (event_id, user_id, int(photo_id), utc_now_iso()))
        new += cur.rowcount
    return new


def remove_matches(conn, event_id, user_id, photo_ids):
    """Take photos out of the user's matches (they said "not me")."""
    for photo_id in photo_ids:
        conn.execute("DELETE FROM line_matches WHERE event_id = ? AND user_id = ? AND "
                     "photo_id = ?", (event_id, user_id, int(photo_id)))


def joined_events_with_faces(conn, user_id):
    """Events the user joined whose face data is still kept, oldest join first."""
    return conn.all("SELECT e.* FROM line_participants p JOIN events e ON e.id = p.event_id "
                    "WHERE p.user_id = ? AND e.faces_purged_at IS NULL "
                    "ORDER BY p.joined_at, e.id", (user_id,))


def reset_matches(conn, event_id, user_id):
    """Forget the photos the user was found in at this event, and that they were told."""
    conn.execute("DELETE FROM line_matches WHERE event_id = ? AND user_id = ?",
                 (event_id, user_id))
    conn.execute("UPDATE line_participants SET found_notified = 0 WHERE event_id = ? "
                 "AND user_id = ?", (event_id, user_id))


def matched_photo_ids(conn, event_id, user_id):
    """Ids of the photos the user was found in, oldest first."""
    rows = conn.all("SELECT photo_id FROM line_matches WHERE event_id = ? AND user_id = ? "
                    "ORDER BY photo_id", (event_id, user_id))
    return [r["photo_id"] for r in rows]


def mark_found_notified(conn, event_id, user_id):
    """Flag the participant as told; False when they already were."""
    cur = conn.execute("UPDATE line_participants SET found_notified = 1 WHERE event_id = ? "
                       "AND user_id = ? AND found_notified = 0", (event_id, user_id))
    return cur.rowcount == 1


def mark_summary_sent(conn, event_id, user_id):
    """Flag the participant's summary as queued; False when it already was."""
    cur = conn.execute("UPDATE line_participants SET summary_sent = 1 WHERE event_id = ? "
                       "AND user_id = ? AND summary_sent = 0", (event_id, user_id))
    return cur.rowcount == 1


# -- outbox -------------------------------------------------------------------
def insert_outbox(conn, retry_key, to_id, messages, reply_token=None, purpose=None):
    """Queue a message (LINE message dicts); return its id."""
    return conn.scalar(
        "INSERT INTO line_outbox (retry_key, to_id, reply_token, messages, purpose, status, "
        "created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?) RETURNING id",
        (retry_key, to_id, reply_token, json.dumps(messages, ensure_ascii=False), purpose,
         utc_now_iso()))


def get_outbox(conn, outbox_id):
    """One outbox row, or None."""
    return conn.one("SELECT * FROM line_outbox WHERE id = ?", (outbox_id,))


def finish_outbox(conn, outbox_id, status, via=None, error=None):
    """Record how an outbox message ended."""
    conn.execute("UPDATE line_outbox SET status = ?, via = ?, error = ?, sent_at = ? "
                 "WHERE id = ?", (status, via, error, utc_now_iso(), outbox_id))


def prune(conn, outbox_before, webhook_before, tokens_before):
    """Delete outbox rows made before ``outbox_before`` and webhook records received
    before ``webhook_before`` (ISO times), and tokens that expired or were used before
    ``tokens_before`` (unix seconds); return the counts."""
    with conn.transaction():
        outbox = conn.execute("DELETE FROM line_outbox WHERE created_at < ?",
                              (outbox_before,)).rowcount
        webhook = conn.execute("DELETE FROM line_webhook_events WHERE received_at < ?",
                               (webhook_before,)).rowcount
        tokens = conn.execute(
            "DELETE FROM line_tokens WHERE expires_at < ? OR (used_at IS NOT NULL "
            "AND used_at < ?)", (tokens_before, _iso(tokens_before))).rowcount
    return {"outbox": outbox, "webhook_events": webhook, "tokens": tokens}


def _iso(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, timezone.utc).replace(
        microsecond=0).isoformat()


def drop_reply_token(conn, outbox_id):
    """The reply token was tried once: never again (a retry pushes)."""
    conn.execute("UPDATE line_outbox SET reply_token = NULL WHERE id = ?", (outbox_id,))
