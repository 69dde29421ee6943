"""Data migrations: back-fill checkpoints, copy a database to another one.

``copy_database`` copies every table named in the schema (new ones included,
parents before children as the schema declares them) in one transaction,
verifies each table's row count and content checksum on both sides before it
commits, and resets PostgreSQL's id sequences. Run twice, it finds the target
already holding exactly the source's rows and changes nothing; a target holding
other rows is refused.
"""
import hashlib
import re
from pathlib import Path

from phopy.data.timeutil import utc_now_iso

SCHEMA = Path(__file__).resolve().parent.parent.parent / "schema.sql"
# Values about the database itself (its schema version, its data folder's id) stay
# the target's own.
NOT_COPIED = ("schema_meta",)
_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)


class MigrationRefused(RuntimeError):
    """The target already holds rows that are not the source's."""


def schema_tables():
    """Every table in schema order (parents before children)."""
    return _CREATE.findall(SCHEMA.read_text())


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


def _columns(conn, table):
    """Column names of ``table`` in ``conn`` (empty when it does not exist)."""
    if conn.dialect == "sqlite":
        return [r["name"] for r in conn.all(f"PRAGMA table_info({table})")]
    return [r["column_name"] for r in conn.all(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? ORDER BY ordinal_position", (table,))]


def _canonical(value):
    if value is None:
        return "N"
    if isinstance(value, bool):
        return f"i{int(value)}"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, float):
        return f"i{int(value)}" if value.is_integer() else f"f{value!r}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b" + bytes(value).hex()
    return "s" + str(value)


def table_digest(conn, table, columns, batch=2000):
    """(rows, checksum) of ``columns`` of ``table``: order-independent, type-neutral."""
    if not columns:
        return 0, "0" * 64
    cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
    count, total = 0, 0
    while True:
        rows = cursor.fetchmany(batch)
        if not rows:
            break
        for row in rows:
            values = row.values() if isinstance(row, dict) else tuple(row)
            line = "\x1f".join(_canonical(v) for v in values)
            total += int.from_bytes(hashlib.sha256(line.encode()).digest(), "big")
            count += 1
    return count, f"{total % (1 << 256):064x}"


def _plan(source, target):
    """[(table, shared columns)] for every schema table the target has."""
    plan = []
    for table in schema_tables():
        if table in NOT_COPIED:
            continue
        target_cols = _columns(target, table)
        if not target_cols:
            continue
        source_cols = set(_columns(source, table))
        plan.append((table, [c for c in target_cols if c in source_cols]))
    return plan


def digests(source, target, plan):
    """{table: {"rows", "checksum", "target_rows", "target_checksum"}}."""
    report = {}
    for table, columns in plan:
        rows, checksum = table_digest(source, table, columns)
        t_rows, t_checksum = table_digest(target, table, columns)
        report[table] = {"rows": rows, "checksum": checksum,
                         "target_rows": t_rows, "target_checksum": t_checksum}
    return report


def copy_database(source, target, batch=1000):
    """Copy every table from ``source`` to ``target``; return a per-table report.

    The report says ``"status": "copied"`` or ``"already copied"`` (run twice)
    and, per table, rows and checksums on both sides. Raises MigrationRefused
    when the target holds other rows, RuntimeError when a check fails (nothing
    is then committed).
    """
    plan = _plan(source, target)
    with target.transaction():
        held = {t: target.scalar(f"SELECT COUNT(*) FROM {t}") for t, _ in plan}
        if any(held.values()):
            report = digests(source, target, plan)
            if all(r["rows"] == r["target_rows"] and r["checksum"] == r["target_checksum"]
                   for r in report.values()):
                return {"status": "already copied", "tables": report}
            differ = sorted(t for t, r in report.items()
                            if (r["rows"], r["checksum"]) != (r["target_rows"],
                                                               r["target_checksum"]))
            raise MigrationRefused(
                "the target database already holds other data (tables "
                f"{', '.join(differ)} differ); refusing to mix. Use an empty database.")
        for table, columns in plan:
            if columns:
                _copy_table(source, target, table, columns, batch)
        report = digests(source, target, plan)
        bad = sorted(t for t, r in report.items()
                     if (r["rows"], r["checksum"]) != (r["target_rows"], r["target_checksum"]))
        if bad:
            raise RuntimeError(f"verification failed for {', '.join(bad)}; nothing was copied")
        if target.dialect == "postgresql":
            reset_sequences(target, [t for t, _ in plan])
    return {"status": "copied", "tables": report}


def _copy_table(source, target, table, columns, batch):
    cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    while True:
        rows = cursor.fetchmany(batch)
        if not rows:
            break
        target.executemany(sql, [
            [target.blob(bytes(v)) if isinstance(v, (bytes, memoryview)) else v
             for v in (row.values() if isinstance(row, dict) else tuple(row))]
            for row in rows])


def reset_sequences(conn, tables):
    """Move every id sequence past the largest id copied in."""
    for table in tables:
        if "id" not in _columns(conn, table):
            continue
        sequence = conn.scalar("SELECT pg_get_serial_sequence(?, 'id')", (table,))
        if sequence:
            conn.execute(f"SELECT setval(?, COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, "
                         "false)", (sequence,))
