"""SQL for "is this you?": search sessions, the faces offered to them, their answers,
and the answer counts a photographer sees."""
from phopy.data.timeutil import unix_now, utc_now_iso


def create(conn, session_id, event_id, owner, engine, encodings, selfies, expires_at):
    """Record a new search session (its selfies' encodings as one blob)."""
    conn.execute(
        "INSERT INTO search_sessions (id, event_id, owner, engine, encodings, selfies, "
        "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, event_id, owner, engine, conn.blob(encodings), selfies, utc_now_iso(),
         expires_at))


def get(conn, session_id):
    """The session row while it has not expired, or None."""
    return conn.one("SELECT * FROM search_sessions WHERE id = ? AND expires_at > ?",
                    (session_id, unix_now()))


def latest_for_owner(conn, event_id, owner):
    """The owner's newest live session of the event, or None (a LINE user's answers)."""
    return conn.one("SELECT * FROM search_sessions WHERE event_id = ? AND owner = ? "
                    "AND expires_at > ? ORDER BY created_at DESC, id LIMIT 1",
                    (event_id, owner, unix_now()))


def delete(conn, session_id):
    """Delete a session with its offers and answers."""
    with conn.transaction():
        for table in ("search_offers", "search_answers"):
            conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
        conn.execute("DELETE FROM search_sessions WHERE id = ?", (session_id,))


def delete_for_owner(conn, owner):
    """Delete every session of an owner (a LINE user's "delete my data"); how many."""
    ids = [r["id"] for r in conn.all("SELECT id FROM search_sessions WHERE owner = ?", (owner,))]
    for session_id in ids:
        delete(conn, session_id)
    return len(ids)


def _delete_where(conn, where, params):
    subquery = f"SELECT id FROM search_sessions WHERE {where}"
    for table in ("search_offers", "search_answers"):
        conn.execute(f"DELETE FROM {table} WHERE session_id IN ({subquery})", params)
    return conn.execute(f"DELETE FROM search_sessions WHERE {where}", params).rowcount


def delete_event_sessions(conn, event_id):
    """Delete every session of an event (its face data purged or the event deleted);
    the caller holds the transaction. The counts stay (they name nobody)."""
    return _delete_where(conn, "event_id = ?", (event_id,))


def delete_expired(conn, now=None):
    """Delete the sessions past their expiry; how many."""
    with conn.transaction():
        return _delete_where(conn, "expires_at <= ?", (now or unix_now(),))


# -- offers and answers -------------------------------------------------------
def add_offers(conn, session_id, offers):
    """Record faces shown or asked about: (face_id, photo_id, tier); a face offered
    before keeps its first tier."""
    for face_id, photo_id, tier in offers:
        conn.execute("INSERT INTO search_offers (session_id, face_id, photo_id, tier) "
                     "VALUES (?, ?, ?, ?) ON CONFLICT (session_id, face_id) DO NOTHING",
                     (session_id, face_id, photo_id, tier))


def get_offer(conn, session_id, face_id):
    """The offer of this face to this session, or None."""
    return conn.one("SELECT * FROM search_offers WHERE session_id = ? AND face_id = ?",
                    (session_id, face_id))


def answers(conn, session_id):
    """{photo_id: row} of the session's answers."""
    return {r["photo_id"]: r for r in conn.all(
        "SELECT * FROM search_answers WHERE session_id = ?", (session_id,))}


def answered_photos(conn, session_id):
    """[(photo_id, answer)] of the session's answers about photos still stored."""
    return [(r["photo_id"], r["answer"]) for r in conn.all(
        "SELECT a.photo_id, a.answer FROM search_answers a JOIN photos p ON p.id = a.photo_id "
        "WHERE a.session_id = ? ORDER BY a.photo_id", (session_id,))]


def add_answer(conn, session_id, photo_id, face_id, answer):
    """Record an answer; False when the photo was answered already (nothing changes)."""
    cur = conn.execute(
        "INSERT INTO search_answers (session_id, photo_id, face_id, answer, answered_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, photo_id) DO NOTHING",
        (session_id, photo_id, face_id, answer, utc_now_iso()))
    return cur.rowcount == 1


def count_answers(conn, session_id, answer):
    """How many of the session's answers are ``answer``."""
    return conn.scalar("SELECT COUNT(*) FROM search_answers WHERE session_id = ? "
                       "AND answer = ?", (session_id, answer)) or 0


def face_encodings(conn, event_id, face_ids, engine, model_version):
    """{face_id: encoding bytes} of these faces of the event made by this engine."""
    if not face_ids:
        return {}
    marks = ", ".join("?" for _ in face_ids)
    rows = conn.all(f"SELECT id, encoding FROM faces WHERE event_id = ? AND engine = ? "
                    f"AND model_version = ? AND id IN ({marks})",
                    (event_id, engine, model_version, *face_ids))
    return {r["id"]: bytes(r["encoding"]) for r in rows}


def face_box(conn, event_id, face_id):
    """The face's row (photo and box) when it belongs to the event, else None."""
    return conn.one("SELECT f.id, f.photo_id, f.box_top, f.box_right, f.box_bottom, "
                    "f.box_left, p.storage_key, p.width, p.height FROM faces f "
                    "JOIN photos p ON p.id = f.photo_id WHERE f.id = ? AND f.event_id = ?",
                    (face_id, event_id))


# -- the photographer's counts -----------------------------------------------
def add_to_totals(conn, event_id, photo_id, confirmed=0, rejected=0):
    """Add to an event's (photo_id 0) or a photo's answer counts."""
    conn.execute(
        "INSERT INTO answer_totals (event_id, photo_id, confirmed, rejected) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (event_id, photo_id) DO UPDATE SET "
        "confirmed = answer_totals.confirmed + excluded.confirmed, "
        "rejected = answer_totals.rejected + excluded.rejected",
        (event_id, photo_id, confirmed, rejected))


def event_totals(conn, event_id, min_rejections=2, limit=20):
    """(sessions that confirmed, "not me" answers, [photos rejected by several])."""
    own = conn.one("SELECT confirmed FROM answer_totals WHERE event_id = ? AND photo_id = 0",
                   (event_id,))
    rejected = conn.scalar("SELECT COALESCE(SUM(rejected), 0) FROM answer_totals "
                           "WHERE event_id = ? AND photo_id <> 0", (event_id,)) or 0
    photos = conn.all(
        "SELECT t.photo_id, t.rejected, t.confirmed, p.filename FROM answer_totals t "
        "JOIN photos p ON p.id = t.photo_id WHERE t.event_id = ? AND t.photo_id <> 0 "
        "AND t.rejected >= ? ORDER BY t.rejected DESC, t.photo_id LIMIT ?",
        (event_id, min_rejections, limit))
    return (own["confirmed"] if own else 0), int(rejected), photos


def offered_faces(conn, session_id, tier="ask"):
    """Ids of the faces the session was offered in ``tier``."""
    return {r["face_id"] for r in conn.all(
        "SELECT face_id FROM search_offers WHERE session_id = ? AND tier = ?",
        (session_id, tier))}


def replace_encodings(conn, session_id, engine, encodings, selfies, expires_at):
    """A new selfie for a session that keeps its answers (a LINE user's new selfie)."""
    conn.execute("UPDATE search_sessions SET engine = ?, encodings = ?, selfies = ?, "
                 "expires_at = ? WHERE id = ?",
                 (engine, conn.blob(encodings), selfies, expires_at, session_id))
