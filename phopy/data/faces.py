"""SQL for stored face encodings (each row records the engine and model that made it)."""


def load_event_encodings(conn, event_id, engine=None, model_version=None, after_id=None):
    """An event's faces as (face_ids, photo_ids, encoding blobs), of one engine if named;
    only faces with an id above ``after_id`` when given (the ones added since a load).

    Rows come back as plain tuples (no dict per row): a 250,000-face event loads
    several times faster than through :meth:`Connection.all`.
    """
    sql = "SELECT id, photo_id, encoding FROM faces WHERE event_id = ?"
    params = [event_id]
    if engine is not None:
        sql += " AND engine = ? AND model_version = ?"
        params += [engine, model_version]
    if after_id is not None:
        sql += " AND id > ?"
        params.append(after_id)
    rows = conn.tuples(sql + " ORDER BY id", params)
    if not rows:
        return [], [], []
    face_ids, photo_ids, blobs = zip(*rows)
    return list(face_ids), list(photo_ids), list(blobs)


def change_stamp(conn, event_id):
    """(faces_version, faces_removed) of the event, or (None, None) when it is gone:
    the first moves with every face change, the second only when faces are removed."""
    row = conn.one("SELECT faces_version, faces_removed FROM events WHERE id = ?", (event_id,))
    return (row["faces_version"], row["faces_removed"]) if row else (None, None)


def count_other_engines(conn, event_id, engine, model_version, after_id=None):
    """How many of the event's faces another engine or model version made (with an id
    above ``after_id`` when given)."""
    sql = "SELECT COUNT(*) FROM faces WHERE event_id = ? AND NOT (engine = ? AND model_version = ?)"
    params = [event_id, engine, model_version]
    if after_id is not None:
        sql += " AND id > ?"
        params.append(after_id)
    return conn.scalar(sql, params) or 0


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


def events_without_face_search(conn, event_ids):
    """The subset of ``event_ids`` deleted or whose face data was purged."""
    event_ids = list(event_ids)
    if not event_ids:
        return set()
    marks = ", ".join("?" * len(event_ids))
    live = conn.all(f"SELECT id FROM events WHERE id IN ({marks}) AND faces_purged_at IS NULL",
                    event_ids)
    return set(event_ids) - {row["id"] for row in live}
