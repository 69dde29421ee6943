"""JOB_RUNNER=celery with a real worker and beat (subprocesses) on a real Redis."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from phopy import create_app
from phopy.data import get_database
from phopy.jobs import queue, registry
from tests.conftest import (add_files, database_url_for, db_rows, make_event, make_photographer,
                            make_test_config)
from tests.jobs.flaky_job import flaky

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def redis_url():
    url = os.environ.get("PHOPY_TEST_REDIS_URL")
    if not url:
        if os.environ.get("PHOPY_REQUIRE_SERVICES"):
            pytest.fail("PHOPY_TEST_REDIS_URL is not set (./test.sh starts Redis)")
        pytest.skip("no Redis: run ./test.sh, which starts one")
    return url


class Celery:
    """A Phopy app with JOB_RUNNER=celery and its workers as subprocesses."""

    def __init__(self, tmp_path, redis_url, **settings):
        self.tmp_path = tmp_path
        self.settings = {"JOB_RUNNER": "celery", "REDIS_URL": redis_url,
                         "CELERY_QUEUE": f"phopy-test-{uuid.uuid4().hex[:8]}",
                         "CELERY_SWEEP_SECONDS": 1, "TASK_STALE_SECONDS": 3,
                         "TASK_POLL_SECONDS": 0.5, "JOB_RETRY_BASE_SECONDS": 0.5,
                         "INDEX_WORKERS": 1, "TASK_PRUNE_HOURS": 0}
        self.settings.update(settings)
        self.app = create_app(make_test_config(tmp_path, **self.settings))
        self.workers = []

    def env(self):
        env = dict(os.environ, PHOPY_DATA_DIR=self.app.config["DATA_DIR"],
                   LOG_DIR=str(self.tmp_path / "logs"),
                   SECRET_KEY=self.app.config["SECRET_KEY"],  # every machine shares it
                   DATABASE_URL=database_url_for(self.tmp_path))
        env.update({k: str(v) for k, v in self.settings.items()})
        return env

    def start_worker(self):
        n = len(self.workers)
        log = open(self.tmp_path / f"worker-{n}.log", "w")
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "tests.jobs.celery_test_worker",
             "worker",
             "-B", "--pool=solo", "-Q", f"{self.settings['CELERY_QUEUE']},"
             f"{self.settings['CELERY_QUEUE']}.heavy", "--loglevel=INFO",
             "-s", str(self.tmp_path / f"beat-{n}"), "-n", f"w{n}-%h"],
            cwd=REPO, env=self.env(), start_new_session=True, stdout=log,
            stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def log(self):
        return "\n".join((self.tmp_path / f"worker-{n}.log").read_text()[-3000:]
                         for n in range(len(self.workers)))

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.3)
        pytest.fail(f"timed out after {timeout}s waiting for {what}\n{self.log()}")

    def stop(self):
        queue.remove_dispatcher(self.app.extensions["celery_dispatch"])
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)


@pytest.fixture
def celery_env(tmp_path, redis_url):
    made = []

    def make(**settings):
        env = Celery(tmp_path, redis_url, **settings)
        made.append(env)
        return env

    yield make
    for env in made:
        env.stop()


def one(app, sql, params=()):
    rows = db_rows(app, sql, params)
    return rows[0] if rows else None


def test_worker_killed_mid_event_then_another_indexes_every_photo_exactly_once(
        celery_env, faces_dir):
    env = celery_env()
    app = env.app
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Celery kill nine")
    photos = sorted((faces_dir / "group_photos").glob("*.jpg"))
    env.start_worker()
    add_files(app, event["id"], photos)  # queues the index task: a message goes out
    n_photos = len(photos)
    env.wait_for(lambda: one(app, "SELECT COUNT(*) AS n FROM photo_checkpoints")["n"] >= 2,
                 180, "the first photos to be indexed")
    os.killpg(env.workers[0].pid, signal.SIGKILL)
    env.workers[0].wait(10)
    done_before = one(app, "SELECT COUNT(*) AS n FROM photo_checkpoints")["n"]
    assert done_before < n_photos, "indexing finished before the kill; use more photos"
    assert one(app, "SELECT status FROM tasks WHERE kind = 'index'")["status"] == "running"

    env.start_worker()  # its beat's sweep finds the task of the dead worker
    task = env.wait_for(
        lambda: one(app, "SELECT * FROM tasks WHERE kind = 'index' AND status = 'completed'"),
        300, "the second worker to finish the event")
    assert task["attempts"] == 2
    assert task["progress"] == task["total"] == n_photos
    checkpoints = db_rows(app, "SELECT photo_id, faces_count FROM photo_checkpoints")
    assert sorted(c["photo_id"] for c in checkpoints) == sorted(
        r["id"] for r in db_rows(app, "SELECT id FROM photos"))
    faces = {r["photo_id"]: r["n"] for r in db_rows(
        app, "SELECT photo_id, COUNT(*) AS n FROM faces GROUP BY photo_id")}
    assert all(faces.get(c["photo_id"], 0) == c["faces_count"] for c in checkpoints)
    assert sum(faces.values()) > 0


@pytest.fixture
def flaky_kind():
    saved = dict(registry.JOBS)
    registry.job("test_flaky", max_attempts=5)(flaky)
    yield
    registry.JOBS.clear()
    registry.JOBS.update(saved)


def test_job_failing_twice_then_succeeding_ends_completed_with_three_attempts(
        celery_env, flaky_kind):
    env = celery_env()
    env.start_worker()
    conn = get_database(env.app).connect()
    task = queue.enqueue(conn, "test_flaky", {"label": "ok"})
    conn.close()
    done = env.wait_for(lambda: one(env.app, "SELECT * FROM tasks WHERE id = ? AND status "
                                             "IN ('completed', 'failed')", (task["id"],)),
                        90, "the flaky job to finish")
    assert done["status"] == "completed", done["error"]
    assert done["attempts"] == 3
    assert done["error"] is None
    assert done["result"] == '{"label": "ok", "attempts": 3}'


def test_beat_fires_a_periodic_job_on_schedule(celery_env):
    env = celery_env(TASK_PRUNE_HOURS=2 / 3600)  # prune-tasks every 2 seconds
    start = time.time()
    env.start_worker()
    done = env.wait_for(
        lambda: db_rows(env.app, "SELECT * FROM tasks WHERE kind = 'prune_tasks' "
                                 "AND status = 'completed'"), 90, "beat to queue prune-tasks")
    assert done[0]["lock_key"] == "schedule:prune-tasks"
    assert done[0]["result"] == '{"removed": 0}'
    # It keeps firing on its interval: a second run follows the first.
    env.wait_for(lambda: len(db_rows(env.app, "SELECT id FROM tasks WHERE kind = "
                                              "'prune_tasks' AND status = 'completed'")) >= 2,
                 30, "the second periodic run")
    assert time.time() - start >= 2
