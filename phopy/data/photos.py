"""SQL for photos and their indexing checkpoints."""
from phopy.data.timeutil import utc_now_iso


def find_by_hash(conn, event_id, content_hash):
    """The event's photo with this content hash, or None."""
    return conn.one("SELECT * FROM photos WHERE event_id = ? AND content_hash = ?",
                    (event_id, content_hash))


def insert(conn, photo):
    """Store a photo row and return its id (None if the content is already there)."""
    try:
        with conn.transaction():
            # the search cache keeps the event's photo counts per faces_version
            conn.execute("UPDATE events SET faces_version = faces_version + 1 WHERE id = ?",
                         (photo["event_id"],))
            return conn.scalar(
                "INSERT INTO photos (event_id, filename, content_hash, storage_key, thumb_key, "
                "width, height, size_bytes, source, source_ref, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (photo["event_id"], photo["filename"], photo["content_hash"],
                 photo["storage_key"], photo.get("thumb_key"), photo.get("width"),
                 photo.get("height"), photo["size_bytes"], photo.get("source", "upload"),
                 photo.get("source_ref"), utc_now_iso()))
    except conn.integrity_errors:
        return None


def get(conn, photo_id):
    """One photo, or None."""
    return conn.one("SELECT * FROM photos WHERE id = ?", (photo_id,))


def get_many(conn, photo_ids):
    """Photos by id, as a dict id -> row."""
    ids = [int(i) for i in photo_ids]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.all(f"SELECT * FROM photos WHERE id IN ({marks})", ids)
    return {row["id"]: row for row in rows}


def list_for_event(conn, event_id, limit=200, offset=0):
    """An event's photos with their checkpoint status, newest first."""
    return conn.all(
        "SELECT p.*, c.status AS scan_status, c.faces_count, c.error AS scan_error "
        "FROM photos p LEFT JOIN photo_checkpoints c ON c.photo_id = p.id "
        "WHERE p.event_id = ? ORDER BY p.id DESC LIMIT ? OFFSET ?", (event_id, limit, offset))


def set_thumbnail(conn, photo_id, thumb_key, width, height):
    """Record a photo's thumbnail and oriented size."""
    conn.execute("UPDATE photos SET thumb_key = ?, width = ?, height = ? WHERE id = ?",
                 (thumb_key, width, height, photo_id))


def claim_unscanned(conn, event_id, holder, now, lease_seconds, limit, biggest_first=False):
    """Claim up to ``limit`` unscanned photos of the event for ``holder``; return them,
    oldest first (``biggest_first``: the largest files first, so that workers sharing
    the event do not end waiting for one that drew the heavy photos last).

    Claimable: no checkpoint yet and not claimed, or claimed by ``holder`` itself (a
    task resumed), or claimed more than ``lease_seconds`` before ``now`` (a worker that
    died). ``now`` is the database's clock. On PostgreSQL the rows are read ``FOR NO
    KEY UPDATE SKIP LOCKED``, so workers claiming at once each get other photos;
    SQLite's write transaction (BEGIN IMMEDIATE) lets one claimer in at a time.
    """
    # NO KEY UPDATE: a checkpoint insert (its foreign key) is not made to wait
    lock = " FOR NO KEY UPDATE OF p SKIP LOCKED" if conn.dialect == "postgresql" else ""
    order = "p.size_bytes DESC, p.id" if biggest_first else "p.id"
    with conn.transaction():
        ids = [row["id"] for row in conn.all(
            "SELECT p.id FROM photos p WHERE p.event_id = ? AND NOT EXISTS ("
            " SELECT 1 FROM photo_checkpoints c WHERE c.photo_id = p.id) AND ("
            " p.claimed_by IS NULL OR p.claimed_by = ? OR p.claimed_at IS NULL"
            f" OR p.claimed_at < ?) ORDER BY {order} LIMIT ?{lock}",
            (event_id, holder, now - lease_seconds, int(limit)))]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        conn.execute(f"UPDATE photos SET claimed_by = ?, claimed_at = ? WHERE id IN ({marks})",
                     [holder, now] + ids)
        return conn.all(f"SELECT * FROM photos p WHERE id IN ({marks}) ORDER BY {order}", ids)


def renew_claims(conn, holder, event_id, now):
    """Move the lease of ``holder``'s claims on the event's unscanned photos to ``now``
    (the holder is still working on them)."""
    conn.execute("UPDATE photos SET claimed_at = ? WHERE claimed_by = ? AND event_id = ? "
                 "AND NOT EXISTS (SELECT 1 FROM photo_checkpoints c WHERE c.photo_id = photos.id)",
                 (now, holder, event_id))


def release_claims(conn, holder, event_id):
    """Give up ``holder``'s claims on the event's unscanned photos (a task that stops
    lets the others take them at once, not when the lease ends)."""
    conn.execute("UPDATE photos SET claimed_by = NULL, claimed_at = NULL "
                 "WHERE claimed_by = ? AND event_id = ?", (holder, event_id))


def count_unclaimed(conn, event_id, now, lease_seconds):
    """How many unscanned photos of the event no live claim holds."""
    return conn.scalar(
        "SELECT COUNT(*) FROM photos p WHERE p.event_id = ? AND NOT EXISTS ("
        " SELECT 1 FROM photo_checkpoints c WHERE c.photo_id = p.id) AND ("
        " p.claimed_by IS NULL OR p.claimed_at IS NULL OR p.claimed_at < ?)",
        (event_id, now - lease_seconds))


def faces_found_by(conn, event_id, task_ids):
    """Faces the checkpoints written by ``task_ids`` found in the event."""
    ids = list(task_ids)
    if not ids:
        return 0
    marks = ",".join("?" * len(ids))
    return conn.scalar("SELECT COALESCE(SUM(faces_count), 0) FROM photo_checkpoints "
                       f"WHERE event_id = ? AND task_id IN ({marks})", [event_id] + ids) or 0


def count_unscanned(conn, event_id):
    """How many photos of the event are still to be scanned."""
    return conn.scalar(
        "SELECT COUNT(*) FROM photos p LEFT JOIN photo_checkpoints c ON c.photo_id = p.id "
        "WHERE p.event_id = ? AND c.photo_id IS NULL", (event_id,))


def count_for_event(conn, event_id):
    """How many photos the event has."""
    return conn.scalar("SELECT COUNT(*) FROM photos WHERE event_id = ?", (event_id,))


def count_scanned(conn, event_id):
    """How many photos of the event have a checkpoint."""
    return conn.scalar("SELECT COUNT(*) FROM photo_checkpoints WHERE event_id = ?", (event_id,))


def checkpoint_summary(conn, event_id):
    """Counts of the event's photos by checkpoint status, plus the total."""
    rows = conn.all("SELECT status, COUNT(*) AS n, SUM(faces_count) AS faces "
                    "FROM photo_checkpoints WHERE event_id = ? GROUP BY status", (event_id,))
    total = conn.scalar("SELECT COUNT(*) FROM photos WHERE event_id = ?", (event_id,))
    summary = {"total_photos": total, "indexed": 0, "no_faces": 0, "error": 0, "faces": 0}
    for row in rows:
        summary[row["status"]] = row["n"]
        summary["faces"] += row["faces"] or 0
    summary["scanned"] = summary["indexed"] + summary["no_faces"] + summary["error"]
    summary["remaining"] = total - summary["scanned"]
    return summary


def list_errors(conn, event_id, limit=50):
    """Photos that could not be read, with their error."""
    return conn.all(
        "SELECT p.id, p.filename, c.error FROM photo_checkpoints c JOIN photos p "
        "ON p.id = c.photo_id WHERE c.event_id = ? AND c.status = 'error' ORDER BY p.id "
        "LIMIT ?", (event_id, limit))


def delete(conn, photo_id):
    """Delete one photo with its faces and checkpoint."""
    with conn.transaction():
        conn.execute("UPDATE events SET faces_version = faces_version + 1, "
                     "faces_removed = faces_removed + CASE WHEN EXISTS "
                     "(SELECT 1 FROM faces WHERE photo_id = ?) THEN 1 ELSE 0 END "
                     "WHERE id = (SELECT event_id FROM photos WHERE id = ?)",
                     (photo_id, photo_id))
        conn.execute("DELETE FROM faces WHERE photo_id = ?", (photo_id,))
        conn.execute("DELETE FROM photo_checkpoints WHERE photo_id = ?", (photo_id,))
        conn.execute("DELETE FROM photos WHERE id = ?", (photo_id,))


def record_scan(conn, photo, task_id, status, faces, error=None,
                engine_key=("dlib", "resnet_v1")):
    """Store a photo's faces and its checkpoint in one transaction.

    ``engine_key`` (engine, model version) is stored with every face.

    Returns False (and stores nothing) if the photo was already scanned or has
    been deleted meanwhile, so a photo's faces are never stored twice, or when
    faces are found after the event's face data was purged (none are stored then).
    """
    try:
        with conn.transaction():
            # The event's row first, with or without faces (the search cache keeps the
            # checkpoint counts per faces_version): its lock makes faces of one event get
            # their ids in commit order, so the search cache may read "ids above the
            # last"; and a purged event takes no new faces.
            if not conn.execute(
                    "UPDATE events SET faces_version = faces_version + 1 WHERE id = ?"
                    + (" AND faces_purged_at IS NULL" if faces else ""),
                    (photo["event_id"],)).rowcount and faces:
                return False
            conn.execute(
                "INSERT INTO photo_checkpoints (photo_id, event_id, task_id, status, "
                "faces_count, error, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (photo["id"], photo["event_id"], task_id, status, len(faces), error,
                 utc_now_iso()))
            if faces:
                conn.executemany(
                    "INSERT INTO faces (photo_id, event_id, box_top, box_right, box_bottom, "
                    "box_left, encoding, engine, model_version) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(photo["id"], photo["event_id"], *box, conn.blob(blob), *engine_key)
                     for box, blob in faces])
    except conn.integrity_errors:
        return False
    return True


def reset_scans(conn, event_id):
    """Forget the event's faces and checkpoints so it is indexed from scratch."""
    with conn.transaction():
        conn.execute("DELETE FROM faces WHERE event_id = ?", (event_id,))
        conn.execute("DELETE FROM photo_checkpoints WHERE event_id = ?", (event_id,))
        conn.execute("UPDATE photos SET claimed_by = NULL, claimed_at = NULL "
                     "WHERE event_id = ?", (event_id,))
        conn.execute("UPDATE events SET faces_version = faces_version + 1, "
                     "faces_removed = faces_removed + 1 WHERE id = ?", (event_id,))


def all_file_keys(conn):
    """Every storage key a photo row points at (originals and thumbnails)."""
    keys = set()
    for row in conn.all("SELECT storage_key, thumb_key FROM photos"):
        keys.add(row["storage_key"])
        if row["thumb_key"]:
            keys.add(row["thumb_key"])
    return keys
