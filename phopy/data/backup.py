"""Database side of backups: SQLite's online backup API, pg_dump/pg_restore, row counts."""
import sqlite3
import subprocess

from phopy.data.migrate import schema_tables

BACKED_UP_TABLES = tuple(schema_tables())


def sqlite_online_backup(source_path, target_path):
    """Copy a live SQLite database page by page (consistent even while it is written)."""
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target, pages=1024)
    finally:
        target.close()
        source.close()


def table_counts(conn):
    """Rows per backed-up table (tables missing in older databases count 0)."""
    counts = {}
    for table in BACKED_UP_TABLES:
        try:
            counts[table] = conn.scalar(f"SELECT COUNT(*) FROM {table}")
        except Exception:  # an older database without this table
            if conn.dialect == "postgresql":
                conn.raw.rollback()
            counts[table] = 0
    return counts


def photo_keys(conn):
    """Storage keys of every photo original."""
    return [r["storage_key"] for r in conn.all("SELECT storage_key FROM photos")]


def pg_dump_consistent(database, dump_path):
    """pg_dump of one exported snapshot; return the row counts of that same snapshot."""
    conn = database.connect()
    try:
        conn.raw.autocommit = False
        cur = conn.raw.cursor()
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT pg_export_snapshot() AS s")
        snapshot = cur.fetchone()["s"]
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                        "--file", str(dump_path), database.url], check=True)
        counts = {}
        for table in BACKED_UP_TABLES:
            cur.execute(f"SELECT COUNT(*) AS n FROM {table}")
            counts[table] = cur.fetchone()["n"]
        conn.raw.rollback()
        return counts
    finally:
        conn.close()


def pg_restore(database, dump_path):
    """Load a custom-format dump into an empty PostgreSQL database, in one transaction
    (a failure leaves the database as it was)."""
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction",
                    "-d", database.url, str(dump_path)], check=True)


def drop_restored(database):
    """Drop the backed-up tables again after a restore that did not verify (the
    database was empty before it)."""
    conn = database.connect()
    try:
        with conn.transaction():
            for table in BACKED_UP_TABLES:
                conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    finally:
        conn.close()


def is_empty(conn):
    """True when no backed-up table exists or holds rows."""
    return not any(table_counts(conn).values())
