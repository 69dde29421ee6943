"""The schema has a version; init-db takes a lock, and processes refuse a mismatch."""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from phopy.data import get_database, meta
from phopy.data.upgrade import COLUMNS, SCHEMA_VERSION
from phopy.jobs.checks import StartRefused, check_start
from tests.conftest import (REPO_ROOT, db_rows, needs_postgresql, new_pg_schema, pg_execute,
                            pg_url, uses_postgresql)


def set_version(app, value):
    conn = get_database(app).connect()
    try:
        meta.put(conn, "schema_version", value)
    finally:
        conn.close()


def test_both_schema_files_record_the_code_s_version():
    for name in ("schema.sql", "schema_postgresql.sql"):
        text = (REPO_ROOT / name).read_text()
        found = re.findall(r"VALUES \('schema_version', '(\d+)'\)", text)
        assert found == [str(SCHEMA_VERSION)], name


def test_a_fresh_database_is_at_the_code_s_version_and_starts(app):
    assert db_rows(app, "SELECT value FROM schema_meta WHERE name = 'schema_version'") == [
        {"value": str(SCHEMA_VERSION)}]
    check_start(app, "beat")


def test_an_older_schema_is_refused_until_init_db_upgrades_it(app, runner):
    set_version(app, SCHEMA_VERSION - 1)
    with pytest.raises(StartRefused) as caught:
        check_start(app, "worker")
    assert "init-db" in str(caught.value) and f"version {SCHEMA_VERSION - 1}" in str(caught.value)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    check_start(app, "worker")


def test_a_newer_schema_is_refused_by_every_role_and_by_init_db(app, runner):
    set_version(app, SCHEMA_VERSION + 1)
    for role in ("web", "worker", "beat"):
        with pytest.raises(StartRefused) as caught:
            check_start(app, role)
        assert "newer than this code" in str(caught.value)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code != 0 and "newer than this code" in result.output
    assert db_rows(app, "SELECT value FROM schema_meta WHERE name = 'schema_version'") == [
        {"value": str(SCHEMA_VERSION + 1)}]  # left as it was


def init_db_six_times(url):
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="x" * 32)
    command = [sys.executable, "-m", "flask", "--app", "app", "init-db"]

    def run(_):
        return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                              timeout=180)
    with ThreadPoolExecutor(6) as pool:
        return list(pool.map(run, range(6)))


def version_and_columns(url):
    import psycopg2
    raw = psycopg2.connect(url)
    try:
        with raw.cursor() as cur:
            cur.execute("SELECT value FROM schema_meta WHERE name = 'schema_version'")
            version = cur.fetchone()[0]
            cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema()")
            columns = set(cur.fetchall())
    finally:
        raw.close()
    return int(version), columns


@needs_postgresql
def test_six_concurrent_init_db_on_a_new_postgresql_database_all_succeed(tmp_path):
    url = new_pg_schema()
    database = url.split("/")[-1].split("?")[0]
    schema = f"empty_{os.getpid()}"
    pg_execute(pg_url(database), f"DROP SCHEMA IF EXISTS {schema} CASCADE",
               f"CREATE SCHEMA {schema}")
    empty = pg_url(database, schema)
    results = init_db_six_times(empty)
    assert [r.returncode for r in results] == [0] * 6, [r.stderr[-800:] for r in results]
    version, columns = version_and_columns(empty)
    assert version == SCHEMA_VERSION and ("tasks", "lock_key") in columns


@needs_postgresql
def test_six_concurrent_init_db_on_an_older_postgresql_database_all_succeed():
    url = new_pg_schema()
    statements = ["DROP TABLE schema_meta"]
    for table, columns in COLUMNS.items():
        statements += [f"ALTER TABLE {table} DROP COLUMN {name} CASCADE" for name, _ in columns]
    statements.append("ALTER TABLE tasks ALTER COLUMN event_id SET NOT NULL")
    pg_execute(url, *statements)
    results = init_db_six_times(url)
    assert [r.returncode for r in results] == [0] * 6, [r.stderr[-800:] for r in results]
    version, columns = version_and_columns(url)
    assert version == SCHEMA_VERSION
    assert {(t, c) for t, cols in COLUMNS.items() for c, _ in cols} <= columns


@pytest.mark.skipif(uses_postgresql(), reason="the SQLite file's own start-up upgrade")
def test_sqlite_database_without_a_version_is_upgraded_and_recorded_at_start(tmp_path):
    from phopy import create_app
    from tests.conftest import make_test_config
    app = create_app(make_test_config(tmp_path))
    conn = get_database(app).connect()
    conn.execute("DROP TABLE schema_meta")
    conn.close()
    app = create_app(make_test_config(tmp_path))  # SQLite upgrades itself at start
    assert db_rows(app, "SELECT value FROM schema_meta WHERE name = 'schema_version'") == [
        {"value": str(SCHEMA_VERSION)}]
