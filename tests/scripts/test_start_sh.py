"""./start.sh: the command line beats .env, and the QR address follows PORT (issue 12, #6)."""
import os
import signal
import stat
import subprocess
import time

import pytest
import requests

from phopy.data import get_database
from tests.conftest import PASSWORD, make_photographer
from tests.live_server import REPO, LiveServer, free_port

pytestmark = pytest.mark.slow


def test_environment_wins_over_env_file_and_qr_follows_port(tmp_path):
    data_dir = tmp_path / "chosen-data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "HOST")}
    env.update(PHOPY_DATA_DIR=str(data_dir), PORT=str(port), LOG_DIR=str(tmp_path / "logs"),
               JOB_RUNNER="none", SEARCH_WORKERS="1", WEB_THREADS="4", FLASK_DEBUG="0",
               DATABASE_URL="")
    log = (tmp_path / "start.log").open("w")
    process = subprocess.Popen(["./start.sh"], cwd=REPO, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (tmp_path / "start.log").read_text()[-3000:]
            try:
                if requests.get(url + "/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "start.log").read_text()[-3000:]
            time.sleep(0.5)
        # The data folder from the command line, not .env's ./instance; private.
        assert (data_dir / "phopy.db").is_file()
        assert stat.S_IMODE(os.stat(data_dir / "phopy.db").st_mode) & 0o077 == 0

        srv = LiveServer(tmp_path)
        srv.port, srv.url, srv.data_dir = port, url, data_dir
        from phopy import create_app
        from tests.conftest import make_test_config
        app = create_app(make_test_config(tmp_path, DATA_DIR=str(data_dir),
                                          DATABASE_URL=f"sqlite:///{data_dir / 'phopy.db'}"))
        make_photographer(app, "qr@example.com")
        session = requests.Session()
        assert srv.login(session, "qr@example.com", PASSWORD).status_code == 302
        token = srv.csrf(session, "/dashboard/events/new")
        created = session.post(url + "/dashboard/events/new", timeout=30,
                               data={"name": "Port party", "csrf_token": token})
        assert created.status_code == 200, created.text[-500:]
        assert f"http://127.0.0.1:{port}/e/" in created.text
        conn = get_database(app).connect()
        assert conn.scalar("SELECT COUNT(*) FROM events") == 1
        conn.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
