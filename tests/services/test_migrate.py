"""Checkpoint back-fill and database copy, on real SQLite files."""
import subprocess
import sys
from pathlib import Path

from PIL import Image

from phopy.data import Database, get_database
from phopy.data import photos as photos_db
from phopy.data.migrate import backfill_checkpoints
from tests.conftest import add_files, make_event, make_photographer

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
    assert [p["filename"] for p in photos_db.list_unscanned(conn, event["id"], 10)] == ["b.jpg"]
    conn.close()


def test_copy_database_script_copies_every_row(app, tmp_path):
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Copied")
    add_files(app, event["id"], [_photo(tmp_path, "c.jpg", "green")])
    source = get_database(app).sqlite_path
    target = tmp_path / "copy.db"
    from phopy.data.migrate import copy_database
    src_conn = get_database(app).connect()
    target_db = Database(f"sqlite:///{target}")
    target_db.init_schema()
    dst = target_db.connect()
    counts = copy_database(src_conn, dst)
    assert counts["photographers"] == 1 and counts["events"] == 1 and counts["photos"] == 1
    assert counts["tasks"] == 1
    assert dst.one("SELECT name FROM events")["name"] == "Copied"
    try:
        copy_database(src_conn, dst)
        raise AssertionError("copying into a non-empty database must refuse")
    except RuntimeError as exc:
        assert "not empty" in str(exc)
    src_conn.close()
    dst.close()
    assert Path(source).exists()


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
