"""schema.sql and schema_postgresql.sql stay in step: tables, columns, types, indexes."""
import re
import sqlite3

from phopy.data.migrate import schema_tables
from tests.conftest import REPO_ROOT, needs_postgresql, pg_execute, pg_url

# SQLite declared type -> the PostgreSQL types that store the same values.
SAME_TYPES = {"INTEGER": {"integer", "bigint"}, "REAL": {"double precision"},
              "TEXT": {"text"}, "BLOB": {"bytea"}}


def sqlite_catalog():
    """{table: {column: type}}, {index: (table, columns, unique)} of schema.sql, as SQLite
    itself reads it."""
    db = sqlite3.connect(":memory:")
    db.executescript((REPO_ROOT / "schema.sql").read_text())
    tables, indexes = {}, {}
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite_%'"):
        tables[table] = {r[1]: r[2].upper() for r in db.execute(f"PRAGMA table_info({table})")}
        for _, name, unique, origin, _ in db.execute(f"PRAGMA index_list({table})"):
            if origin == "c":  # CREATE INDEX (not a PRIMARY KEY / UNIQUE constraint)
                cols = tuple(r[2] for r in db.execute(f"PRAGMA index_info({name})"))
                indexes[name] = (table, cols, bool(unique))
    db.close()
    return tables, indexes


def postgresql_text_catalog():
    """The same from schema_postgresql.sql's text (for the SQLite pass)."""
    text = re.sub(r"--[^\n]*", "", (REPO_ROOT / "schema_postgresql.sql").read_text())
    tables = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)\s*\((.*?)\n\);", text, re.S):
        cols = {}
        for line in re.split(r",\s*\n", body):
            words = line.split()
            if words and words[0].upper() not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK",
                                                  "CONSTRAINT"):
                cols[words[0]] = " ".join(words[1:3]).upper()
        tables[name] = cols
    indexes = {m[1]: (m[2], tuple(c.strip() for c in m[3].split(",")), bool(m[0]))
               for m in re.findall(r"CREATE (UNIQUE )?INDEX IF NOT EXISTS (\w+) ON (\w+)"
                                   r"\s*\(([^)]*)\)", text)}
    return tables, indexes


def test_both_schemas_declare_the_same_tables_columns_and_indexes():
    sqlite_tables, sqlite_indexes = sqlite_catalog()
    pg_tables, pg_indexes = postgresql_text_catalog()
    assert sorted(sqlite_tables) == sorted(pg_tables)
    for table, columns in sqlite_tables.items():
        assert list(columns) == list(pg_tables[table]), table
    assert sqlite_indexes == pg_indexes
    # Tables are declared in the same order (parents first: the migration relies on it).
    assert schema_tables() == re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)",
                                         (REPO_ROOT / "schema_postgresql.sql").read_text())


@needs_postgresql
def test_postgresql_builds_the_same_catalog_as_sqlite():
    """Run schema_postgresql.sql on the real server and compare its catalog with SQLite's."""
    import psycopg2
    import psycopg2.extras
    sqlite_tables, sqlite_indexes = sqlite_catalog()
    url = pg_url("phopy_schema_check")
    pg_execute(pg_url("postgres"), "DROP DATABASE IF EXISTS phopy_schema_check",
               "CREATE DATABASE phopy_schema_check")
    try:
        pg_execute(url, (REPO_ROOT / "schema_postgresql.sql").read_text())
        raw = psycopg2.connect(url, cursor_factory=psycopg2.extras.RealDictCursor)
        cur = raw.cursor()
        cur.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")
        pg_tables = {}
        for row in cur.fetchall():
            pg_tables.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
        cur.execute("SELECT i.relname AS name, t.relname AS tbl, ix.indisunique AS uniq, "
                    "array_agg(a.attname ORDER BY k.n) AS cols "
                    "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
                    "JOIN pg_class t ON t.oid = ix.indrelid "
                    "JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public' "
                    "CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) "
                    "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
                    "WHERE NOT ix.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                    "WHERE c.conindid = ix.indexrelid) GROUP BY i.relname, t.relname, "
                    "ix.indisunique")
        pg_indexes = {r["name"]: (r["tbl"], tuple(r["cols"]), r["uniq"]) for r in cur.fetchall()}
        raw.close()
    finally:
        pg_execute(pg_url("postgres"), "DROP DATABASE IF EXISTS phopy_schema_check WITH (FORCE)")
    assert sorted(pg_tables) == sorted(sqlite_tables)
    for table, columns in sqlite_tables.items():
        assert list(pg_tables[table]) == list(columns), table
        for column, sqlite_type in columns.items():
            assert pg_tables[table][column] in SAME_TYPES[sqlite_type], (table, column)
    assert pg_indexes == sqlite_indexes
