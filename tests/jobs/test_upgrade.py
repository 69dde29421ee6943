"""An existing SQLite database from before the jobs core is upgraded in place."""
import sqlite3
from pathlib import Path

from phopy import create_app
from phopy.data import get_database
from phopy.jobs.queue import enqueue
from tests.conftest import db_rows, index_all, make_test_config

REPO = Path(__file__).resolve().parents[2]
OLD_SCHEMA = Path(__file__).parent / "data" / "schema_714faa7.sql"  # git show 714faa7:schema.sql


def make_old_database(path):
    raw = sqlite3.connect(path)
    raw.executescript(OLD_SCHEMA.read_text())
    raw.execute("INSERT INTO photographers (email, password_hash, created_at) "
                "VALUES ('old@example.com', 'x', '2026-01-01T00:00:00+00:00')")
    raw.execute("INSERT INTO events (id, code, owner_id, name, created_at) "
                "VALUES ('ev1', 'ABC123', 1, 'Old event', '2026-01-01T00:00:00+00:00')")
    raw.executemany(
        "INSERT INTO tasks (id, event_id, kind, status, progress, total, error, attempts, "
        "created_at, finished_at) VALUES (?, 'ev1', 'index', ?, ?, 10, ?, ?, ?, ?)",
        [("t1", "completed", 10, None, 1, "2026-01-01T00:00:01+00:00",
          "2026-01-01T00:01:00+00:00"),
         ("t2", "failed", 4, "disk full", 2, "2026-01-02T00:00:01+00:00",
          "2026-01-02T00:01:00+00:00")])
    raw.commit()
    raw.close()


def test_old_database_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    db_file = tmp_path / "data" / "phopy.db"  # an old SQLite install, in either pass
    config = make_test_config(tmp_path, DATABASE_URL=f"sqlite:///{db_file}")
    db_file.parent.mkdir(parents=True)
    make_old_database(db_file)

    app = create_app(config)  # upgrades on start
    rows = db_rows(app, "SELECT id, event_id, kind, status, progress, error, attempts, "
                        "args, lock_key, max_attempts, run_after, result FROM tasks ORDER BY id")
    assert rows == [
        {"id": "t1", "event_id": "ev1", "kind": "index", "status": "completed", "progress": 10,
         "error": None, "attempts": 1, "args": None, "lock_key": None, "max_attempts": 5,
         "run_after": 0.0, "result": None},
        {"id": "t2", "event_id": "ev1", "kind": "index", "status": "failed", "progress": 4,
         "error": "disk full", "attempts": 2, "args": None, "lock_key": None,
         "max_attempts": 5, "run_after": 0.0, "result": None}]
    names = {r["name"] for r in db_rows(app, "SELECT name FROM sqlite_master")}
    assert {"schedule_leases", "idx_tasks_lock", "idx_tasks_status",
            "idx_tasks_event"} <= names
    assert not any(n.endswith("_before_upgrade") for n in names)
    assert db_rows(app, "PRAGMA foreign_key_check") == []

    # A task with no event can now be stored and run (it prunes the event's old task,
    # keeping its latest), and a second start changes nothing.
    conn = get_database(app).connect()
    enqueue(conn, "prune_tasks")
    conn.close()
    assert index_all(app) == 1
    create_app(config)
    assert db_rows(app, "SELECT id, status FROM tasks WHERE event_id IS NOT NULL") == [
        {"id": "t2", "status": "failed"}]
    assert db_rows(app, "SELECT status, result FROM tasks WHERE event_id IS NULL") == [
        {"status": "completed", "result": '{"removed": 1}'}]


def test_upgrade_interrupted_after_the_rename_finishes_on_next_start(tmp_path):
    """A crash between renaming the old table and copying it back loses no task."""
    db_file = tmp_path / "data" / "phopy.db"  # an old SQLite install, in either pass
    config = make_test_config(tmp_path, DATABASE_URL=f"sqlite:///{db_file}")
    db_file.parent.mkdir(parents=True)
    make_old_database(db_file)
    raw = sqlite3.connect(db_file)
    raw.executescript("ALTER TABLE tasks RENAME TO tasks_before_upgrade;"
                      "DROP INDEX IF EXISTS idx_tasks_status; DROP INDEX IF EXISTS idx_tasks_event;")
    raw.executescript((REPO / "schema.sql").read_text())  # the script ran, the copy did not
    raw.close()
    app = create_app(config)
    assert [r["id"] for r in db_rows(app, "SELECT id FROM tasks ORDER BY id")] == ["t1", "t2"]


NEW_LAYOUT_BASE = Path(__file__).parent / "data" / "schema_7aced4e.sql"  # git show 7aced4e:…


def test_a_queue_made_before_jobs_were_declared_in_place_still_runs(tmp_path, faces_dir):
    """A database and task queue made by 7aced4e (jobs in ``jobs/kinds.py``) keep working:
    every stored job and schedule name is still declared, and the queued tasks run."""
    from phopy.jobs import registry, schedule
    db_file = tmp_path / "data" / "phopy.db"
    db_file.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_file)
    raw.executescript(NEW_LAYOUT_BASE.read_text())
    raw.execute("INSERT INTO photographers (email, password_hash, created_at) "
                "VALUES ('old@example.com', 'x', '2026-01-01T00:00:00+00:00')")
    raw.execute("INSERT INTO events (id, code, owner_id, name, created_at) "
                "VALUES ('ev1', 'ABC123', 1, 'Old event', '2026-01-01T00:00:00+00:00')")
    # The names 7aced4e stored: job kinds in tasks, entry names in schedule leases.
    old_kinds = ["index", "prune_tasks", "drive_sync", "drive_sync_all", "line_event",
                 "line_send", "line_intake", "line_auto_close", "purge_faces"]
    raw.executemany("INSERT INTO tasks (id, event_id, kind, status, args, lock_key, "
                    "max_attempts, created_at) VALUES (?, ?, ?, 'pending', ?, ?, 3, "
                    "'2026-01-01T00:00:01+00:00')",
                    [("p1", None, "prune_tasks", "{}", "schedule:prune-tasks"),
                     ("p2", None, "purge_faces", "{}", "schedule:purge-faces"),
                     ("p3", None, "line_auto_close", "{}", "schedule:line-auto-close")])
    for name in ("prune-tasks", "drive-sync", "line-auto-close", "purge-faces"):
        raw.execute("INSERT INTO schedule_leases (name, next_run_at) VALUES (?, 0)", (name,))
    raw.commit()
    raw.close()

    app = create_app(make_test_config(tmp_path, DATABASE_URL=f"sqlite:///{db_file}"))
    assert set(old_kinds) <= set(registry.kinds())
    assert {e.name for e in schedule.all_entries()} >= {
        r["name"] for r in db_rows(app, "SELECT name FROM schedule_leases")}
    index_all(app)
    rows = db_rows(app, "SELECT id, status, error FROM tasks ORDER BY id")
    assert [(r["id"], r["status"]) for r in rows] == [
        ("p1", "completed"), ("p2", "completed"), ("p3", "completed")], rows
