"""Data migrations: back-fill checkpoints, copy a database to another one."""
from phopy.data.timeutil import utc_now_iso

# Parents before children, so foreign keys hold while copying.
TABLES = ("photographers", "events", "photos", "photo_checkpoints", "faces", "tasks",
          "line_users", "line_tokens", "line_groups", "line_webhook_events", "line_outbox",
          "line_event_groups", "line_images", "line_participants", "line_matches")
SERIAL_TABLES = ("photographers", "photos", "faces", "line_outbox")


def backfill_checkpoints(conn):
    """Give photos that have faces but no checkpoint (older databases) one; return how many."""
    with conn.transaction():
        cur = conn.execute(
            "INSERT INTO photo_checkpoints (photo_id, event_id, task_id, status, faces_count, "
            "processed_at) SELECT p.id, p.event_id, NULL, 'indexed', COUNT(f.id), ? "
            "FROM photos p JOIN faces f ON f.photo_id = p.id "
            "WHERE NOT EXISTS (SELECT 1 FROM photo_checkpoints c WHERE c.photo_id = p.id) "
            "GROUP BY p.id, p.event_id", (utc_now_iso(),))
    return cur.rowcount


def copy_database(source, target, batch=1000):
    """Copy every row of every table from one Connection to another; return row counts."""
    counts = {}
    with target.transaction():
        for table in TABLES:
            if target.scalar(f"SELECT COUNT(*) FROM {table}"):
                raise RuntimeError(f"target table {table} is not empty; refusing to mix data")
        for table in TABLES:
            cursor = source.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                   f"VALUES ({', '.join('?' * len(columns))})")
            counts[table] = 0
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    break
                values = [[target.blob(v) if isinstance(v, (bytes, memoryview)) else v
                           for v in (dict(r).values() if not isinstance(r, tuple) else r)]
                          for r in rows]
                target.executemany(sql, values)
                counts[table] += len(values)
        if target.dialect == "postgresql":
            for table in SERIAL_TABLES:
                target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")
    return counts
