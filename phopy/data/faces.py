"""SQL for stored face encodings."""


def load_event_encodings(conn, event_id):
    """All faces of an event as (face_ids, photo_ids, encoding blobs)."""
    rows = conn.execute("SELECT id, photo_id, encoding FROM faces WHERE event_id = ? "
                        "ORDER BY id", (event_id,)).fetchall()
    face_ids, photo_ids, blobs = [], [], []
    for row in rows:
        row = dict(row)
        face_ids.append(row["id"])
        photo_ids.append(row["photo_id"])
        blobs.append(bytes(row["encoding"]))
    return face_ids, photo_ids, blobs

