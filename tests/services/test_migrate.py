"""Checkpoint back-fill and the SQLite to PostgreSQL copy, on real databases."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from phopy import create_app
from phopy.data import Database, get_database
from phopy.data import photos as photos_db
from phopy.data.migrate import (NOT_COPIED, MigrationRefused, backfill_checkpoints, copy_database,
                                 schema_tables)
from phopy.jobs import schedule
from phopy.jobs.queue import enqueue
from tests.conftest import (add_files, db_rows, login, make_event, make_photographer,
                            make_test_config, needs_postgresql, new_pg_schema)

REPO = Path(__file__).resolve().parents[2]


def _photo(tmp_path, name, color):
    path = tmp_path / name
    Image.new("RGB", (40, 30), color).save(path, "JPEG")
    return path


def test_backfill_marks_photos_with_faces_once(app, tmp_path):
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Legacy")
    add_files(app, event["id"], [_photo(tmp_path, "a.jpg", "red"), _photo(tmp_path, "b.jpg", "blue")],
              queue=False)
    conn = get_database(app).connect()
    photo_a = conn.one("SELECT * FROM photos WHERE filename = 'a.jpg'")
    # An older database: faces stored, no checkpoint.
    conn.execute("INSERT INTO faces (photo_id, event_id, box_top, box_right, box_bottom, box_left,"
                 " encoding) VALUES (?, ?, 1, 2, 3, 0, ?)", (photo_a["id"], event["id"], b"\0" * 512))
    assert backfill_checkpoints(conn) == 1
    assert backfill_checkpoints(conn) == 0
    assert photos_db.count_unscanned(conn, event["id"]) == 1
    assert conn.all("SELECT p.filename FROM photos p WHERE NOT EXISTS (SELECT 1 FROM "
                    "photo_checkpoints c WHERE c.photo_id = p.id)") == [{"filename": "b.jpg"}]
    conn.close()


def sqlite_app(tmp_path, name="source.db"):
    """An app on a SQLite file, in either test pass (the migration's source)."""
    return create_app(make_test_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / name}"))


def fill(app, tmp_path):
    """Accounts, an event, photos, faces, checkpoints, tasks and a schedule row."""
    owner = make_photographer(app)
    make_photographer(app, "bob@example.com")
    event = make_event(app, owner["id"], "Copied งานวิ่ง")
    add_files(app, event["id"], [_photo(tmp_path, "c.jpg", "green"),
                                 _photo(tmp_path, "d.jpg", "red")])
    conn = get_database(app).connect()
    photo = conn.one("SELECT * FROM photos WHERE filename = 'c.jpg'")
    conn.execute("INSERT INTO faces (photo_id, event_id, box_top, box_right, box_bottom, box_left,"
                 " encoding) VALUES (?, ?, 1, 2, 3, 0, ?)",
                 (photo["id"], event["id"], bytes(range(256)) * 2))
    backfill_checkpoints(conn)
    app.config["TASK_PRUNE_HOURS"] = 1
    schedule.run_due(conn, app.config, "test", now=1_000.0)
    enqueue(conn, "prune_tasks", {"keep_days": 7.5})
    conn.close()
    return event


def test_copy_database_copies_verifies_and_is_idempotent(tmp_path):
    app = sqlite_app(tmp_path)
    fill(app, tmp_path)
    target_db = Database(f"sqlite:///{tmp_path / 'copy.db'}")
    target_db.init_schema()
    src, dst = get_database(app).connect(), target_db.connect()
    report = copy_database(src, dst)
    assert report["status"] == "copied"
    tables = report["tables"]
    assert set(schema_tables()) - set(NOT_COPIED) <= set(tables)  # schema_meta stays the target's
    assert {t: r["rows"] for t, r in tables.items() if r["rows"]} == {
        "photographers": 2, "events": 1, "photos": 2, "photo_checkpoints": 1, "faces": 1,
        "tasks": 2, "schedule_leases": len(schedule.entries(app.config))}
    assert all(r["checksum"] == r["target_checksum"] for r in tables.values())
    assert copy_database(src, dst)["status"] == "already copied"
    src.execute("UPDATE events SET name = 'Renamed'")
    with pytest.raises(MigrationRefused, match="events"):
        copy_database(src, dst)
    src.close()
    dst.close()


@needs_postgresql
def test_migrate_script_copies_a_real_sqlite_database_into_postgresql(tmp_path):
    app = sqlite_app(tmp_path)
    event = fill(app, tmp_path)
    source = get_database(app).sqlite_path
    target_url = new_pg_schema()

    def migrate():
        return subprocess.run([sys.executable, "migrate_sqlite_to_postgres.py", source,
                               target_url], cwd=REPO, capture_output=True, text=True,
                              timeout=120)

    first = migrate()
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "copied"
    assert report["tables"]["faces"]["rows"] == 1
    assert report["tables"]["tasks"]["target_rows"] == 2
    again = migrate()
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "already copied"

    # The same app now runs on PostgreSQL: rows, bytes and sequences carried over.
    pg_app = create_app(make_test_config(tmp_path / "pg", DATABASE_URL=target_url,
                                         DATA_DIR=app.config["DATA_DIR"]))
    assert db_rows(pg_app, "SELECT name FROM events") == [{"name": "Copied งานวิ่ง"}]
    assert bytes(db_rows(pg_app, "SELECT encoding FROM faces")[0]["encoding"]) == \
        bytes(range(256)) * 2
    carol = make_photographer(pg_app, "carol@example.com")
    assert carol["id"] == 3
    client = pg_app.test_client()
    login(client)
    page = client.get(f"/dashboard/events/{event['id']}")
    assert page.status_code == 200 and "c.jpg" in page.get_data(as_text=True)

    # A source that no longer matches what was copied is refused, nothing changes.
    conn = get_database(app).connect()
    conn.execute("DELETE FROM faces")
    conn.close()
    refused = migrate()
    assert refused.returncode == 2
    assert "refused" in refused.stderr and "faces" in refused.stderr
    assert len(db_rows(pg_app, "SELECT id FROM faces")) == 1


def test_migrate_checkpoints_script_runs(tmp_path):
    env = {"PHOPY_DATA_DIR": str(tmp_path / "d"), "LOG_DIR": str(tmp_path / "l"),
           "SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "migrate_checkpoints.py"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "checkpoints added: 0" in out.stdout


def test_faces_of_an_older_database_get_their_engine_on_start(tmp_path):
    """A SQLite database made before faces recorded their engine is upgraded in place."""
    import sqlite3

    from phopy import create_app
    from tests.conftest import make_test_config
    app = create_app(make_test_config(tmp_path))
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("this upgrade is of SQLite files; PostgreSQL gets the same ALTER TABLE")
    db_file = app.config["DATABASE_URL"].split("///", 1)[-1]
    raw = sqlite3.connect(db_file)
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("ALTER TABLE faces DROP COLUMN model_version")
    raw.execute("ALTER TABLE faces DROP COLUMN engine")
    raw.execute("INSERT INTO faces (photo_id, event_id, box_top, box_right, box_bottom, "
                "box_left, encoding) VALUES (1, 'e1', 0, 10, 10, 0, ?)", (b"\0" * 512,))
    raw.commit()
    assert "engine" not in [r[1] for r in raw.execute("PRAGMA table_info(faces)")]
    raw.close()
    create_app(make_test_config(tmp_path))  # start again on the same data folder
    raw = sqlite3.connect(db_file)
    rows = raw.execute("SELECT engine, model_version FROM faces").fetchall()
    raw.close()
    assert rows == [("dlib", "resnet_v1")]
