"""A real server killed with kill -9 mid-indexing resumes where it stopped."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phopy import create_app
from phopy.data import get_database
from phopy.jobs import tasks
from tests.conftest import (add_files, database_url_for, login, make_event, make_photographer,
                            make_test_config)

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir, log_dir, port):
    env = dict(os.environ, PHOPY_DATA_DIR=str(data_dir), LOG_DIR=str(log_dir),
               SECRET_KEY="resume-test", JOB_RUNNER="thread", INDEX_WORKERS="2",
               TASK_POLL_SECONDS="0.3", TASK_STALE_SECONDS="600", DATABASE_URL=database_url_for(data_dir.parent),
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
         "phopy.wsgi:app"], cwd=REPO, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=open(log_dir / f"server-{port}.err", "w"))


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def count(conn, sql, params=()):
    return conn.scalar(sql, params)


@pytest.mark.slow
def test_kill_9_during_indexing_then_restart_indexes_every_photo_once(tmp_path, faces_dir):
    app = create_app(make_test_config(tmp_path))
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Kill nine")
    photos = sorted((faces_dir / "group_photos").glob("*.jpg"))
    add_files(app, event["id"], photos)
    conn = get_database(app).connect()
    n_photos = count(conn, "SELECT COUNT(*) FROM photos")
    assert n_photos == len(photos) >= 12
    log_dir = tmp_path / "logs"

    server = start_server(tmp_path / "data", log_dir, free_port())
    try:
        wait_for(lambda: count(conn, "SELECT COUNT(*) FROM photo_checkpoints") >= 3, 120,
                 "the first photos to be indexed")
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
    time.sleep(0.5)  # let the killed processes' files settle
    done_before = count(conn, "SELECT COUNT(*) FROM photo_checkpoints")
    assert done_before < n_photos, "indexing finished before the kill; use more photos"
    task = conn.one("SELECT * FROM tasks WHERE kind = 'index'")
    assert task["status"] == "running"
    assert tasks.task_json(task, stale_seconds=600)["resumable"] is True

    client = app.test_client()
    login(client)
    assert b"Interrupted" in client.get("/dashboard/").data

    server = start_server(tmp_path / "data", log_dir, free_port())
    try:
        wait_for(lambda: conn.scalar("SELECT status FROM tasks WHERE kind = 'index'") == "completed", 240,
                 "the resumed task to complete")
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)

    task = conn.one("SELECT * FROM tasks WHERE kind = 'index'")
    assert task["attempts"] == 2 and task["progress"] == n_photos
    # Every photo scanned exactly once; no face stored twice; none missed.
    assert count(conn, "SELECT COUNT(*) FROM photo_checkpoints") == n_photos
    assert count(conn, "SELECT COUNT(DISTINCT photo_id) FROM photo_checkpoints") == n_photos
    assert count(conn, "SELECT COUNT(*) FROM faces") == \
        count(conn, "SELECT SUM(faces_count) FROM photo_checkpoints")
    assert count(conn, "SELECT COUNT(*) FROM (SELECT photo_id, box_top, box_left, COUNT(*) AS n "
                       "FROM faces GROUP BY photo_id, box_top, box_left HAVING COUNT(*) > 1) d") == 0
    per_photo = conn.all("SELECT c.photo_id, c.faces_count, COUNT(f.id) AS stored "
                         "FROM photo_checkpoints c LEFT JOIN faces f ON f.photo_id = c.photo_id "
                         "GROUP BY c.photo_id, c.faces_count")
    assert all(r["faces_count"] == r["stored"] for r in per_photo)
    assert count(conn, "SELECT COUNT(*) FROM faces") > 100  # the crowd photos are in
    conn.close()
