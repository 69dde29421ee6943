"""SQL for stored face encodings (each row records the engine and model that made it)."""


def load_event_encodings(conn, event_id, engine=None, model_version=None):
    """An event's faces as (face_ids, photo_ids, encoding blobs), of one engine if named."""
    sql = "SELECT id, photo_id, encoding FROM faces WHERE event_id = ?"
    params = [event_id]
    if engine is not None:
        sql += " AND engine = ? AND model_version = ?"
        params += [engine, model_version]
    rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    face_ids, photo_ids, blobs = [], [], []
    for row in rows:
        row = dict(row)
        face_ids.append(row["id"])
        photo_ids.append(row["photo_id"])
        blobs.append(bytes(row["encoding"]))
    return face_ids, photo_ids, blobs


def count_other_engines(conn, event_id, engine, model_version):
    """How many of the event's faces another engine or model version made."""
    return conn.scalar(
        "SELECT COUNT(*) FROM faces WHERE event_id = ? "
        "AND NOT (engine = ? AND model_version = ?)",
        (event_id, engine, model_version)) or 0


def events_with_other_engines(conn, event_ids, engine, model_version):
    """The subset of ``event_ids`` holding faces made by another engine or model version."""
    event_ids = list(event_ids)
    if not event_ids:
        return set()
    marks = ", ".join("?" * len(event_ids))
    rows = conn.all(
        f"SELECT DISTINCT event_id FROM faces WHERE event_id IN ({marks}) "
        "AND NOT (engine = ? AND model_version = ?)",
        (*event_ids, engine, model_version))
    return {row["event_id"] for row in rows}
