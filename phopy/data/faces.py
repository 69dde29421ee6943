"""SQL for stored face encodings (each row records the engine and model that made it)."""
import threading

import numpy as np

# COPY's binary format: an 11-byte signature, flags and the length of an extension area
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
# faces (by id span) from which an event's cold load is split across two connections
SPLIT_FROM = 50_000


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


def event_matrix(conn, event_id, engine, model_version, size, after_id=None,
                 split_from=SPLIT_FROM):
    """An event's faces of one engine as arrays (face ids, photo ids, float32 (n, size)
    encodings) in id order; only those with an id above ``after_id`` when given.

    On PostgreSQL the rows come in COPY's binary format, each a fixed number of bytes
    (two bigints and ``size`` floats), read into the arrays by NumPy with no Python
    object per row: a 250,000-face event loads in a fraction of the time the rows take
    as tuples (``python -m bench.cache``). SQLite, in process, reads the tuples.
    """
    if conn.dialect != "postgresql":
        face_ids, photo_ids, blobs = load_event_encodings(conn, event_id, engine,
                                                          model_version, after_id)
        matrix = (np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, size) if blobs
                  else np.zeros((0, size), dtype=np.float32))
        return (np.asarray(face_ids, dtype=np.int64), np.asarray(photo_ids, dtype=np.int64),
                matrix)
    sql = ("SELECT id, photo_id, encoding FROM faces WHERE event_id = ? AND engine = ? "
           "AND model_version = ?")
    params = [event_id, engine, model_version]
    if after_id is not None:
        sql += " AND id > ?"
        params.append(after_id)
    else:
        low, high = conn.tuples("SELECT min(id), max(id) FROM faces WHERE event_id = ?",
                                (event_id,))[0]
        if low is not None and high - low >= split_from:
            with conn.split_read() as other:
                if other is not None:  # else no second connection is free now: one piece
                    return _two_halves(conn, other, sql, params, size, (low + high) // 2)
    return _fixed_rows(conn.copy_binary(sql + " ORDER BY id", params), size)


def _two_halves(conn, other, sql, params, size, middle):
    """The rows in two halves of the id range, read by two server processes at once in
    one snapshot (``other``: the second connection): the server's reading and sending is
    most of a big event's load."""
    second = {}
    reader = threading.Thread(target=_read_into, args=(
        other, sql + " AND id > ? ORDER BY id", params + [middle], size, second))
    reader.start()
    try:
        first = _fixed_rows(conn.copy_binary(sql + " AND id <= ? ORDER BY id",
                                             params + [middle]), size)
    finally:
        reader.join()
    if "error" in second:
        raise second["error"]
    return tuple(np.concatenate(pair) for pair in zip(first, second["rows"]))


def _read_into(conn, sql, params, size, out):
    try:
        out["rows"] = _fixed_rows(conn.copy_binary(sql, params), size)
    except Exception as exc:  # raised again by the caller's thread
        out["error"] = exc


def _fixed_rows(data, size):
    """(ids, photo ids, encodings) from COPY binary rows of (bigint, bigint, bytea)."""
    if bytes(data[:11]) != _COPY_SIGNATURE:
        raise ValueError("not COPY's binary format")
    start = 19 + int.from_bytes(data[15:19], "big")  # past the header extension
    row = np.dtype([("fields", ">i2"), ("id_len", ">i4"), ("id", ">i8"),
                    ("photo_len", ">i4"), ("photo_id", ">i8"),
                    ("encoding_len", ">i4"), ("encoding", "<f4", (size,))])
    body = data[start:len(data) - 2]  # the trailer: a field count of -1
    if len(body) % row.itemsize or bytes(data[len(data) - 2:]) != b"\xff\xff":
        raise ValueError(f"face rows are not all {size}-value encodings")
    rows = np.frombuffer(body, dtype=row)
    if not (np.all(rows["fields"] == 3) and np.all(rows["id_len"] == 8)
            and np.all(rows["photo_len"] == 8) and np.all(rows["encoding_len"] == size * 4)):
        raise ValueError(f"face rows are not all {size}-value encodings")
    return (rows["id"].astype(np.int64), rows["photo_id"].astype(np.int64),
            rows["encoding"])


def change_stamps(conn, event_ids):
    """{event id: (faces_version, faces_removed)} of those of ``event_ids`` that exist and
    whose face data was not purged, in one query: the first number moves with every
    change to the event's faces, photos or checkpoints, the second only when faces are
    removed."""
    event_ids = list(dict.fromkeys(event_ids))
    if not event_ids:
        return {}
    marks = ", ".join("?" * len(event_ids))
    rows = conn.tuples(f"SELECT id, faces_version, faces_removed FROM events WHERE id IN "
                       f"({marks}) AND faces_purged_at IS NULL", event_ids)
    return {row[0]: (row[1], row[2]) for row in rows}


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
