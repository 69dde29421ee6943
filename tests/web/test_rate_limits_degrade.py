"""Redis stopped: log in and search keep answering, counted in memory; a warning when
PostgreSQL runs with per-process limits."""
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from phopy import create_app
from phopy.web.security import warn_about_per_process_limits
from tests.conftest import PASSWORD, make_event, make_photographer, make_test_config


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of this test's own, which the test may stop."""
    server = shutil.which("redis-server")
    if not server:
        if os.environ.get("PHOPY_REQUIRE_SERVICES"):
            pytest.fail("redis-server is not installed (./test.sh installs it)")
        pytest.skip("no redis-server")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield proc, f"redis://127.0.0.1:{port}/0"
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def test_redis_stopped_login_and_search_answer_and_limits_hold_in_memory(tmp_path,
                                                                           private_redis):
    proc, url = private_redis
    app = create_app(make_test_config(
        tmp_path, RATELIMIT_ENABLED=True, REDIS_URL=url, RATELIMIT_STORAGE_URI=None,
        LOGIN_RATE_LIMIT="3 per minute", RATELIMIT_KEY_PREFIX=f"t-{uuid.uuid4().hex[:8]}"))
    owner = make_photographer(app)
    client = app.test_client()
    wrong = {"email": "ann@example.com", "password": "guess-guess"}
    assert client.post("/auth/login", data=wrong).status_code == 401  # counted in Redis
    proc.kill()
    proc.wait(10)
    statuses = [client.post("/auth/login", data=wrong).status_code for _ in range(6)]
    assert set(statuses) <= {401, 429} and statuses[:3] == [401, 401, 401], statuses
    assert statuses[-1] == 429, statuses  # the limit still holds, counted in memory now
    elsewhere = {"REMOTE_ADDR": "10.0.0.9"}
    right = {"email": "ann@example.com", "password": PASSWORD}
    assert client.post("/auth/login", data=right, environ_base=elsewhere).status_code == 302
    # Selfie searches (page and API): the limiter runs first, then the view's own answer.
    event = make_event(app, owner["id"])
    page = client.post(f"/e/{event['code']}", data={}, environ_base=elsewhere)
    api = client.post("/api/search-face", data={}, environ_base=elsewhere)
    assert page.status_code == 400 and api.status_code in (400, 401), (page.status_code,
                                                                        api.status_code)

def test_a_warning_when_postgresql_runs_with_per_process_limits(caplog):
    config = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
              "DATABASE_URL": "postgresql://db.example/phopy"}
    with caplog.at_level(logging.WARNING, logger="phopy.web.security"):
        assert warn_about_per_process_limits(config)
    assert "REDIS_URL" in caplog.text
    assert not warn_about_per_process_limits(dict(config, RATELIMIT_STORAGE_URI="redis://x"))
    assert not warn_about_per_process_limits(dict(config, DATABASE_URL="sqlite:///x.db"))
