"""SQL for race bib numbers (``phopy.bibs``): per-event settings, the reading
checkpoints, the readings, the photographer's fixes and the start list."""
from phopy.data.timeutil import utc_now_iso

_BOX = ("box_left", "box_top", "box_right", "box_bottom")


# -- settings -----------------------------------------------------------------
def get_settings(conn, event_id):
    """The event's bib settings row, or None (never set: not a running event)."""
    return conn.one("SELECT * FROM bib_events WHERE event_id = ?", (event_id,))


def put_settings(conn, event_id, is_running_event, bib_pattern, bib_search):
    """Store the event's bib settings."""
    conn.execute(
        "INSERT INTO bib_events (event_id, is_running_event, bib_pattern, bib_search, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO UPDATE SET "
        "is_running_event = excluded.is_running_event, bib_pattern = excluded.bib_pattern, "
        "bib_search = excluded.bib_search, updated_at = excluded.updated_at",
        (event_id, int(bool(is_running_event)), bib_pattern, int(bool(bib_search)),
         utc_now_iso()))


# -- reading ------------------------------------------------------------------
def photos_to_read(conn, event_id, limit):
    """Photos of the event scanned for faces (checkpoint) but not read for bibs yet."""
    return conn.all(
        "SELECT p.* FROM photos p JOIN photo_checkpoints c ON c.photo_id = p.id "
        "LEFT JOIN bib_scans s ON s.photo_id = p.id "
        "WHERE p.event_id = ? AND s.photo_id IS NULL ORDER BY p.id LIMIT ?", (event_id, limit))


def count_to_read(conn, event_id):
    """How many photos of the event wait to be read."""
    return conn.scalar(
        "SELECT COUNT(*) FROM photo_checkpoints c LEFT JOIN bib_scans s ON s.photo_id = c.photo_id "
        "WHERE c.event_id = ? AND s.photo_id IS NULL", (event_id,))


def count_read(conn, event_id):
    """How many photos of the event were read."""
    return conn.scalar("SELECT COUNT(*) FROM bib_scans WHERE event_id = ?", (event_id,))


def photo_faces(conn, photo_id):
    """The faces found on a photo: id and box (full-size oriented pixels)."""
    return conn.all("SELECT id, box_top, box_right, box_bottom, box_left FROM faces "
                    "WHERE photo_id = ? ORDER BY id", (photo_id,))


def photo_fixes(conn, photo_id):
    """The photographer's fixes on a photo."""
    return conn.all("SELECT * FROM bib_fixes WHERE photo_id = ? ORDER BY id", (photo_id,))


def record_read(conn, photo, readings, status="read", error=None):
    """Replace the photo's readings with ``readings`` (dicts) and check it off, in one
    transaction: reading a photo again is idempotent. False when the photo's indexing
    checkpoint is gone (deleted or re-indexed meanwhile)."""
    now = utc_now_iso()
    with conn.transaction():
        if not conn.scalar("SELECT 1 FROM photo_checkpoints WHERE photo_id = ?", (photo["id"],)):
            return False
        conn.execute("DELETE FROM bib_readings WHERE photo_id = ?", (photo["id"],))
        conn.executemany(
            "INSERT INTO bib_readings (event_id, photo_id, face_id, bib, text_read, confidence, "
            "box_left, box_top, box_right, box_bottom, searchable, review, suggestion, fixed, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(photo["event_id"], photo["id"], r.get("face_id"), r["bib"], r["text_read"],
              float(r["confidence"]), *(int(r[k]) for k in _BOX), int(r["searchable"]),
              r.get("review"), r.get("suggestion"), int(r.get("fixed", 0)), now)
             for r in readings])
        conn.execute("DELETE FROM bib_scans WHERE photo_id = ?", (photo["id"],))
        conn.execute("INSERT INTO bib_scans (photo_id, event_id, status, readings, error, read_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (photo["id"], photo["event_id"], status, len(readings), error, now))
    return True


def forget_reads(conn, event_id):
    """Forget which photos were read, so the event is read again (readings are replaced
    photo by photo; fixes stay)."""
    conn.execute("DELETE FROM bib_scans WHERE event_id = ?", (event_id,))


# -- search -------------------------------------------------------------------
def searchable_readings(conn, event_id, bib):
    """Searchable readings of one number in the event."""
    return conn.all("SELECT * FROM bib_readings WHERE event_id = ? AND bib = ? AND searchable = 1 "
                    "ORDER BY photo_id", (event_id, bib))


def bibs_on_faces(conn, face_ids):
    """The searchable numbers read under these faces."""
    if not face_ids:
        return []
    marks = ", ".join("?" * len(face_ids))
    return [r["bib"] for r in conn.all(
        f"SELECT DISTINCT bib FROM bib_readings WHERE searchable = 1 AND face_id IN ({marks}) "
        "ORDER BY bib", list(face_ids))]


def face_encodings(conn, face_ids, engine, model_version):
    """(face_id, encoding blob) of these faces made by one engine and model."""
    if not face_ids:
        return []
    marks = ", ".join("?" * len(face_ids))
    return conn.tuples(f"SELECT id, encoding FROM faces WHERE id IN ({marks}) AND engine = ? "
                       "AND model_version = ? ORDER BY id", [*face_ids, engine, model_version])


def count_readings(conn, event_id):
    """(readings, searchable numbers, readings to review) of the event."""
    row = conn.one(
        "SELECT COUNT(*) AS readings, COUNT(DISTINCT CASE WHEN searchable = 1 THEN bib END) "
        "AS bibs, SUM(CASE WHEN review IS NOT NULL AND fixed = 0 THEN 1 ELSE 0 END) AS review "
        "FROM bib_readings WHERE event_id = ?", (event_id,))
    return row["readings"], row["bibs"], row["review"] or 0


def numbers_have_letters(conn, event_id):
    """(start list entries, whether any has a letter; searchable readings, whether
    any has a letter) of the event: a letter is a character whose cases differ."""
    row = conn.one(
        "SELECT (SELECT COUNT(*) FROM bib_start_list WHERE event_id = ?) AS listed, "
        "(SELECT COUNT(*) FROM bib_start_list WHERE event_id = ? AND UPPER(bib) <> "
        "LOWER(bib)) AS listed_letters, "
        "(SELECT COUNT(*) FROM bib_readings WHERE event_id = ? AND searchable = 1) AS read, "
        "(SELECT COUNT(*) FROM bib_readings WHERE event_id = ? AND searchable = 1 AND "
        "UPPER(bib) <> LOWER(bib)) AS read_letters", (event_id,) * 4)
    return (row["listed"], bool(row["listed_letters"]), row["read"],
            bool(row["read_letters"]))


# -- review -------------------------------------------------------------------
def review_queue(conn, event_id, limit=200):
    """Readings the photographer should look at, with their photo's file name."""
    return conn.all(
        "SELECT r.*, p.filename FROM bib_readings r JOIN photos p ON p.id = r.photo_id "
        "WHERE r.event_id = ? AND r.review IS NOT NULL AND r.fixed = 0 "
        "ORDER BY r.review, r.bib, r.id LIMIT ?", (event_id, limit))


def mark_review(conn, reading_ids, reason):
    """Put readings in the review queue for ``reason`` (unless already there or fixed)."""
    for reading_id in reading_ids:
        conn.execute("UPDATE bib_readings SET review = ? WHERE id = ? AND review IS NULL "
                     "AND fixed = 0", (reason, reading_id))


def faces_per_bib(conn, event_id):
    """(bib, reading id, photo id, face id) of searchable readings under a face."""
    return conn.all("SELECT bib, id, photo_id, face_id FROM bib_readings WHERE event_id = ? "
                    "AND searchable = 1 AND face_id IS NOT NULL AND fixed = 0 ORDER BY bib, id",
                    (event_id,))


def get_reading(conn, event_id, reading_id):
    """One reading of the event, or None."""
    return conn.one("SELECT * FROM bib_readings WHERE id = ? AND event_id = ?",
                    (reading_id, event_id))


def fix_reading(conn, reading, bib):
    """The photographer's fix of one reading: its number (None: not a bib), kept for
    later readings of the same box."""
    with conn.transaction():
        conn.execute("DELETE FROM bib_fixes WHERE photo_id = ? AND box_left = ? AND box_top = ? "
                     "AND box_right = ? AND box_bottom = ?",
                     (reading["photo_id"], *(reading[k] for k in _BOX)))
        conn.execute("INSERT INTO bib_fixes (event_id, photo_id, box_left, box_top, box_right, "
                     "box_bottom, bib, fixed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (reading["event_id"], reading["photo_id"], *(reading[k] for k in _BOX), bib,
                      utc_now_iso()))
        conn.execute("UPDATE bib_readings SET bib = ?, searchable = ?, fixed = 1 WHERE id = ?",
                     (bib or reading["bib"], int(bib is not None), reading["id"]))


# -- start list ---------------------------------------------------------------
def replace_start_list(conn, event_id, entries):
    """Replace the event's start list with ``entries`` (dicts), in one transaction."""
    with conn.transaction():
        conn.execute("DELETE FROM bib_start_list WHERE event_id = ?", (event_id,))
        conn.executemany(
            "INSERT INTO bib_start_list (event_id, bib, name, category, email, line_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(event_id, e["bib"], e["name"], e.get("category"), e.get("email"), e.get("line_id"))
             for e in entries])


def start_list_bibs(conn, event_id):
    """The set of numbers on the event's start list (empty: no start list)."""
    return {r["bib"] for r in conn.all("SELECT bib FROM bib_start_list WHERE event_id = ?",
                                       (event_id,))}


def count_start_list(conn, event_id):
    """How many runners the event's start list has."""
    return conn.scalar("SELECT COUNT(*) FROM bib_start_list WHERE event_id = ?", (event_id,))


def delete_start_list(conn, event_id):
    """Remove the event's start list."""
    conn.execute("DELETE FROM bib_start_list WHERE event_id = ?", (event_id,))


# -- deletion -------------------------------------------------------------------
def delete_personal(conn, event_id):
    """Delete what the event's bibs say about people: its readings (a number tied to a
    face and a photo), the photographer's fixes and the start list (names, e-mails,
    LINE ids). Reading checkpoints and settings stay (no re-reading). The caller holds
    the transaction; the event's deletion and its face-data purge call this."""
    for table in ("bib_readings", "bib_fixes", "bib_start_list"):
        conn.execute(f"DELETE FROM {table} WHERE event_id = ?", (event_id,))


def delete_event_bibs(conn, event_id):
    """Delete all of the event's bib rows (its deletion; the caller holds the transaction)."""
    delete_personal(conn, event_id)
    for table in ("bib_scans", "bib_events"):
        conn.execute(f"DELETE FROM {table} WHERE event_id = ?", (event_id,))
