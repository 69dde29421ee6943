"""A real Phopy behind gunicorn on 127.0.0.1 for tests that need the whole stack.

Headers, redirects, cookies, rate limits, process memory and crash recovery
live in the served app, so those tests talk HTTP to this subprocess.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``gunicorn phopy.wsgi:app`` on a temp data folder; ``env`` overrides settings."""

    def __init__(self, root, threads=8, **env):
        self.root = Path(root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = self.root / "data"
        self.log = self.root / f"server-{self.port}.log"
        self.threads = threads
        self.extra_env = {k: str(v) for k, v in env.items()}
        self.process = None

    def env(self):
        from tests.conftest import database_url_for  # a schema of its own in the PostgreSQL pass
        env = dict(os.environ, PHOPY_DATA_DIR=str(self.data_dir), LOG_DIR=str(self.root / "logs"),
                   SECRET_KEY="live-test", PUBLIC_BASE_URL=self.url,
                   DATABASE_URL=database_url_for(self.root),
                   JOB_RUNNER="none", SEARCH_WORKERS="1", TASK_POLL_SECONDS="0.3",
                   FLASK_DEBUG="0")
        env.update(self.extra_env)
        return env

    def start(self, timeout=90):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--threads", str(self.threads), "--timeout", "120", "phopy.wsgi:app"],
            cwd=REPO, env=self.env(), start_new_session=True,
            stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def kill9(self):
        """kill -9 the whole server (gunicorn and its workers) at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def worker_pid(self):
        """The pid of gunicorn's (single) worker process."""
        import psutil
        children = psutil.Process(self.process.pid).children()
        return children[0].pid

    def app(self):
        """An app on the server's data folder, for setting up data directly."""
        from phopy import create_app
        from tests.conftest import make_test_config
        return create_app(make_test_config(self.root, DATA_DIR=str(self.data_dir),
                                           PUBLIC_BASE_URL=self.url,
                                           SECRET_KEY=self.env()["SECRET_KEY"]))

    def session(self):
        return requests.Session()

    def csrf(self, session, path="/auth/login"):
        """The CSRF token of a page (and the session cookie that goes with it)."""
        html = session.get(self.url + path, timeout=10).text
        return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    def login(self, session, email, password, next_path=None):
        token = self.csrf(session)
        url = self.url + "/auth/login" + (f"?next={next_path}" if next_path else "")
        return session.post(url, data={"email": email, "password": password,
                                       "csrf_token": token}, allow_redirects=False, timeout=30)

    def upload(self, session, event_id, files):
        """Upload (name, bytes) photos as the logged-in photographer; the JSON answer."""
        token = self.csrf(session, f"/dashboard/events/{event_id}")
        response = session.post(f"{self.url}/dashboard/events/{event_id}/photos",
                                files=[("photos", (name, data)) for name, data in files],
                                data={"csrf_token": token},
                                headers={"Accept": "application/json"}, timeout=120)
        return response

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
