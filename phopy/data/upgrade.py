"""Bring an existing database up to the current schema before the schema script runs.

``schema.sql`` only creates what is missing, so a column added to a table that
already exists is added here. Add a line to ``COLUMNS`` whenever a column is
added to an existing table (in both schema files).

The schema has a version (``SCHEMA_VERSION``), stored in ``schema_meta`` by the
schema files and raised by ``init-db`` after an upgrade. Raise it (here and in
both schema files' last line) with every change to the schema; web machines and
workers compare it at start (:func:`check_schema`) and refuse to run against a
database that is older or newer than their code.
"""
import logging

from phopy.data import meta

log = logging.getLogger(__name__)

# 1: every database before versions were recorded; 2: schema_meta; 3: runners.role;
# 4: events.faces_removed and idx_faces_event_id (the search cache's refresh);
# 5: search_sessions, search_offers, search_answers, answer_totals ("is this you?");
# 6: sales_pricing, sales_tiers, sales_orders, sales_order_items, sales_webhook_events
#    (with the receipt, LINE buyer and kept-copy columns, added before 6 was released).
# 7: bib_events, bib_scans, bib_readings, bib_fixes, bib_start_list (phopy/bibs), and
#    line_bibs (bib numbers LINE participants typed), added before 7 was released.
# 8: photos.claimed_by/claimed_at and tasks.parent_id (several workers index one event).
SCHEMA_VERSION = 8


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this code was written for."""


def stored_version(conn):
    """The schema version the database records (1 when it records none, None when empty)."""
    value = meta.get(conn, "schema_version")
    if value is not None:
        return int(value)
    return 1 if _columns(conn, "events") else None


def check_schema(conn, expected=SCHEMA_VERSION):
    """Raise SchemaMismatch, saying what to do, unless the database is at ``expected``."""
    found = stored_version(conn)
    if found == expected:
        return found
    if found is None:
        raise SchemaMismatch("The database has no Phopy tables yet: run "
                             "`flask --app app init-db` once (./start.sh does).")
    if found < expected:
        raise SchemaMismatch(
            f"The database schema is version {found}; this code needs version {expected}. "
            "Run `flask --app app init-db` once (on any one machine, with this code) "
            "to upgrade it, then start this process again.")
    raise SchemaMismatch(
        f"The database schema is version {found}, newer than this code's ({expected}): "
        "another machine runs a newer Phopy. Update this machine's code to the same version.")


def record_version(conn, version=SCHEMA_VERSION):
    """Store the schema version (after the schema script and the upgrades ran)."""
    meta.put(conn, "schema_version", version)

# table -> [(column, type and default)]; REAL becomes DOUBLE PRECISION on PostgreSQL.
COLUMNS = {
    "events": [
        ("closed_at", "TEXT"),
        ("face_retention_days", "INTEGER"),
        ("faces_purged_at", "TEXT"),
        ("banner_key", "TEXT"),
        ("banner_position", "TEXT"),
        ("faces_removed", "INTEGER NOT NULL DEFAULT 0"),
    ],
    "photos": [
        ("claimed_by", "TEXT"),
        ("claimed_at", "REAL"),
    ],
    "faces": [
        ("engine", "TEXT NOT NULL DEFAULT 'dlib'"),
        ("model_version", "TEXT NOT NULL DEFAULT 'resnet_v1'"),
    ],
    "line_event_groups": [
        ("photos_from", "TEXT NOT NULL DEFAULT 'operators'"),
    ],
    "line_users": [
        ("face_engine", "TEXT"),
        ("code_misses", "INTEGER NOT NULL DEFAULT 0"),
        ("code_misses_since", "REAL"),
    ],
    "sales_orders": [
        ("lang", "TEXT"),
        ("line_user_id", "TEXT"),
        ("receipt_sent_at", "TEXT"),
    ],
    "sales_order_items": [
        ("filename", "TEXT"),
        ("kept_key", "TEXT"),
    ],
    "runners": [
        ("role", "TEXT NOT NULL DEFAULT 'runner'"),
    ],
    "tasks": [
        ("args", "TEXT"),
        ("lock_key", "TEXT"),
        ("max_attempts", "INTEGER NOT NULL DEFAULT 5"),
        ("run_after", "REAL NOT NULL DEFAULT 0"),
        ("result", "TEXT"),
        ("enqueued_at", "REAL NOT NULL DEFAULT 0"),
        ("parent_id", "TEXT"),
    ],
}


def _columns(conn, table):
    """{column: notnull} of an existing table; empty when the table does not exist."""
    if conn.dialect == "sqlite":
        return {r["name"]: bool(r["notnull"]) for r in conn.all(f"PRAGMA table_info({table})")}
    rows = conn.all("SELECT column_name, is_nullable FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = ?", (table,))
    return {r["column_name"]: r["is_nullable"] == "NO" for r in rows}


def upgrade_before_schema(conn):
    """Add missing columns to existing tables; return the tables to rebuild after the script."""
    rebuild = []
    # A rebuild interrupted after its rename (a crash mid-upgrade): finish the copy.
    if _columns(conn, "tasks_before_upgrade"):
        log.warning("schema upgrade: finishing an interrupted rebuild of tasks")
        for name, ddl in COLUMNS["tasks"]:
            if name not in _columns(conn, "tasks_before_upgrade"):
                conn.execute(f"ALTER TABLE tasks_before_upgrade ADD COLUMN {name} {ddl}")
        if _columns(conn, "tasks"):
            conn.execute("DELETE FROM tasks WHERE id IN (SELECT id FROM tasks_before_upgrade)")
        return ["tasks"]
    for table, columns in COLUMNS.items():
        existing = _columns(conn, table)
        if not existing:
            continue
        for name, ddl in columns:
            if name not in existing:
                if conn.dialect == "postgresql":
                    ddl = ddl.replace("REAL", "DOUBLE PRECISION")
                log.info("schema upgrade: adding %s.%s", table, name)
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")
    # Tasks need not belong to an event any more (LINE, Drive, housekeeping jobs).
    tasks = _columns(conn, "tasks")
    if tasks.get("event_id"):
        log.info("schema upgrade: tasks.event_id becomes optional")
        if conn.dialect == "postgresql":
            conn.execute("ALTER TABLE tasks ALTER COLUMN event_id DROP NOT NULL")
        else:  # SQLite cannot drop NOT NULL: rename, let the script create, copy back
            conn.execute("ALTER TABLE tasks RENAME TO tasks_before_upgrade")
            conn.execute("DROP INDEX IF EXISTS idx_tasks_status")
            conn.execute("DROP INDEX IF EXISTS idx_tasks_event")
            conn.execute("DROP INDEX IF EXISTS idx_tasks_lock")
            conn.execute("DROP INDEX IF EXISTS idx_tasks_parent")
            rebuild.append("tasks")
    return rebuild


def upgrade_after_schema(conn, rebuild):
    """Copy rows of rebuilt tables into their new definitions."""
    for table in rebuild:
        old = f"{table}_before_upgrade"
        columns = [c for c in _columns(conn, old) if c in _columns(conn, table)]
        names = ", ".join(columns)
        conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {old}")
        conn.execute(f"DROP TABLE {old}")
