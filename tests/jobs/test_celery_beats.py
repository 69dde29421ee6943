"""Many beats, one run per interval; workers and beat send heartbeats on a timer.

Real Celery processes on a real Redis, as in test_celery.py: one worker and
two beats, each its own subprocess with its own schedule file.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import db_rows
from tests.jobs.test_celery import REPO, celery_env, redis_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
CELERY = str(Path(sys.executable).with_name("celery"))


def spawn(env, tmp_path, name, *args):
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([CELERY, "-A", "tests.jobs.celery_test_worker", *args,
                             "--loglevel=INFO"], cwd=REPO, env=env.env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(procs):
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def logs(tmp_path):
    return "\n".join(p.read_text()[-2000:] for p in tmp_path.glob("*.log"))


def wait_for(predicate, timeout, what, tmp_path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{logs(tmp_path)}")


def test_two_beats_queue_each_periodic_job_once_per_interval_and_health_sees_them(
        celery_env, tmp_path):
    env = celery_env(TASK_PRUNE_HOURS=2 / 3600, HEALTH_HEARTBEAT_SECONDS=1)  # every 2 s
    queue = env.settings["CELERY_QUEUE"]
    client = env.app.test_client()
    procs = [spawn(env, tmp_path, "worker", "worker", "--pool=solo", "-Q",
                   f"{queue},{queue}.heavy", "-n", "w-%h")]
    try:
        # The worker's heartbeat comes on its timer, with no task to run; beat is missing.
        wait_for(lambda: db_rows(env.app, "SELECT * FROM runners WHERE role = 'worker'"), 90,
                 "the worker's heartbeat", tmp_path)
        body = client.get("/health").get_json()
        assert body["failing"] == ["jobs"] and body["checks"]["jobs"]["missing"] == ["beat"]
        assert "no Celery beat has started" in body["checks"]["jobs"]["error"]
        assert client.get("/health/ready").status_code == 200
        for n in range(2):
            procs.append(spawn(env, tmp_path, f"beat-{n}", "beat", "-s",
                               str(tmp_path / f"beat-{n}.schedule")))
        wait_for(lambda: len(db_rows(env.app, "SELECT * FROM runners WHERE role = 'beat'")) == 2,
                 60, "both beats' heartbeats", tmp_path)
        assert client.get("/health").status_code == 200
        first = wait_for(lambda: db_rows(env.app, "SELECT MIN(created_at) AS t FROM tasks "
                                         "WHERE kind = 'prune_tasks' HAVING COUNT(*) > 0"),
                         60, "a first prune-tasks", tmp_path)[0]["t"]
        started = time.monotonic()
        time.sleep(16)
        elapsed = time.monotonic() - started
        runs = db_rows(env.app, "SELECT COUNT(*) AS n FROM tasks WHERE kind = 'prune_tasks'"
                                " AND created_at >= ?", (first,))[0]["n"]
        # Both beats fire every 2 s: about elapsed / 2 runs, not twice as many.
        assert elapsed / 2 - 2 <= runs <= elapsed / 2 + 2, (runs, elapsed, logs(tmp_path))
    finally:
        stop(procs)
    assert db_rows(env.app, "SELECT * FROM runners WHERE role IN ('worker', 'beat')") == []
