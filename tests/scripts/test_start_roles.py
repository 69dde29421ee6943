"""./start.sh web|worker|beat: one role per machine, each refusing what it cannot serve."""
import os
import signal
import subprocess
import time

import psutil
import pytest
import requests

from tests.live_server import REPO, free_port

pytestmark = pytest.mark.slow


def base_env(tmp_path, **settings):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PUBLIC_BASE_URL", "HOST", "REDIS_URL", "JOB_RUNNER")}
    env.update(PHOPY_DATA_DIR=str(tmp_path / "data"), LOG_DIR=str(tmp_path / "logs"),
               SEARCH_WORKERS="1", WEB_THREADS="4", FLASK_DEBUG="0", DATABASE_URL="",
               CELERY_BEAT_SCHEDULE=str(tmp_path / "beat" / "schedule"))
    env.update(settings)
    return env


def run(role, env):
    return subprocess.run(["./start.sh", role], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("role, settings, says", [
    ("web", {"JOB_RUNNER": "thread"}, "JOB_RUNNER=celery"),
    ("worker", {}, "needs REDIS_URL"),
    ("beat", {"REDIS_URL": "redis://127.0.0.1:9/0", "JOB_SCHEDULE": "0"}, "JOB_SCHEDULE is off"),
    ("cook", {}, "usage: ./start.sh [web|worker|beat]"),
])
def test_a_role_refuses_what_it_cannot_serve(tmp_path, role, settings, says):
    done = run(role, base_env(tmp_path, **settings))
    assert done.returncode == 2, done.stderr[-2000:]
    assert says in done.stderr
    assert not (tmp_path / "data" / "phopy.db").exists()  # refused before starting anything


def test_web_alone_serves_and_starts_no_worker_or_beat(tmp_path):
    redis_url = os.environ.get("PHOPY_TEST_REDIS_URL")
    if not redis_url:
        if os.environ.get("PHOPY_REQUIRE_SERVICES"):
            pytest.fail("PHOPY_TEST_REDIS_URL is not set (./test.sh starts Redis)")
        pytest.skip("no Redis: run ./test.sh, which starts one")
    port = free_port()
    env = base_env(tmp_path, JOB_RUNNER="celery", REDIS_URL=redis_url, PORT=str(port))
    log = (tmp_path / "web.log").open("w")
    process = subprocess.Popen(["./start.sh", "web"], cwd=REPO, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()[-3000:]
            time.sleep(0.5)
        commands = [" ".join(p.cmdline()) for p in
                    psutil.Process(process.pid).children(recursive=True)] + \
            [" ".join(psutil.Process(process.pid).cmdline())]
        assert any("gunicorn" in c for c in commands), commands
        assert not any("celery" in c for c in commands), commands
        # Without a worker or beat anywhere, /health says so while /health/ready is fine.
        body = requests.get(f"http://127.0.0.1:{port}/health", timeout=10).json()
        assert body["checks"]["jobs"]["missing"] == ["workers", "beat"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
