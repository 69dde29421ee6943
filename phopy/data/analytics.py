"""SQL for the search and download logs behind the analytics page."""
import json

from phopy.data.timeutil import unix_now


def insert_search(conn, event_id, selfies, faces_found, photo_ids, duration_ms):
    """Record one search (counts only: never the selfie or its encoding)."""
    conn.execute(
        "INSERT INTO search_log (event_id, created_at, selfies, faces_found, photos_returned, "
        "photo_ids, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (event_id, unix_now(), selfies, faces_found, len(photo_ids), json.dumps([int(p) for p in photo_ids]),
         duration_ms))


def insert_downloads(conn, event_id, photo_ids):
    """Record photos downloaded from a search result."""
    now = unix_now()
    conn.executemany("INSERT INTO download_log (event_id, photo_id, created_at) "
                     "VALUES (?, ?, ?)", [(event_id, int(p), now) for p in photo_ids])


def searches(conn, event_id):
    """Every logged search of the event, oldest first."""
    return conn.all("SELECT created_at, selfies, faces_found, photos_returned, photo_ids, "
                    "duration_ms FROM search_log WHERE event_id = ? ORDER BY created_at",
                    (event_id,))


def download_count(conn, event_id):
    """How many photos of the event were downloaded."""
    return conn.scalar("SELECT COUNT(*) FROM download_log WHERE event_id = ?", (event_id,))


def photo_names(conn, event_id, photo_ids):
    """photo id -> filename for the event's photos among ``photo_ids``."""
    ids = [int(i) for i in photo_ids]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.all(f"SELECT id, filename FROM photos WHERE event_id = ? AND id IN ({marks})",
                    [event_id] + ids)
    return {r["id"]: r["filename"] for r in rows}


def scan_times(conn, event_id):
    """The ISO times the event's photos were scanned, oldest first."""
    return [r["processed_at"] for r in conn.all(
        "SELECT processed_at FROM photo_checkpoints WHERE event_id = ? ORDER BY processed_at",
        (event_id,))]

