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


def start_sh(tmp_path, port, **env_overrides):
    """./start.sh as a subprocess; wait until it answers (fail with its log otherwise)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PUBLIC_BASE_URL", "HOST", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(PORT=str(port), LOG_DIR=str(tmp_path / "logs"), JOB_RUNNER="none",
               SEARCH_WORKERS="1", WEB_THREADS="4", FLASK_DEBUG="0", DATABASE_URL="",
               **env_overrides)
    log_path = tmp_path / "start.log"
    process = subprocess.Popen(["./start.sh"], cwd=REPO, env=env, stdout=log_path.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 240
    while True:
        if process.poll() is not None:
            return process, False
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return process, True
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            return process, False
        time.sleep(0.5)


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def test_a_planted_metrics_folder_name_neither_stops_the_app_nor_is_followed(tmp_path):
    """start.sh's metrics folder used to be /tmp/phopy-metrics-<port>: anyone could plant a
    symlink there first, and gunicorn then would not start (issue 19, low)."""
    port, tmp, victim = free_port(), tmp_path / "tmp", tmp_path / "someone-elses"
    tmp.mkdir()
    victim.mkdir()
    (victim / "keep.txt").write_text("not yours")
    (tmp / f"phopy-metrics-{port}").symlink_to(victim)
    data_dir = tmp_path / "data"
    process, started = start_sh(tmp_path, port, TMPDIR=str(tmp), PHOPY_DATA_DIR=str(data_dir),
                                METRICS_TOKEN="tok")
    try:
        assert started, (tmp_path / "start.log").read_text()[-3000:]
        scrape = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10,
                              headers={"Authorization": "Bearer tok"})
        assert scrape.status_code == 200 and "phopy_http_requests_total" in scrape.text
        folder = data_dir / f".metrics-{port}"
        assert folder.is_dir() and not folder.is_symlink()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and list(folder.glob("*.db"))
    finally:
        stop(process)
    assert (victim / "keep.txt").read_text() == "not yours"


def test_gunicorn_conf_replaces_a_symlink_and_never_empties_its_target(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    planted = tmp_path / "metrics"
    planted.symlink_to(victim)
    prepared = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c",
                               "import phopy.gunicorn_conf"], cwd=REPO, capture_output=True,
                              text=True, env=dict(os.environ,
                                                  PROMETHEUS_MULTIPROC_DIR=str(planted)))
    assert prepared.returncode == 0, prepared.stderr
    assert planted.is_dir() and not planted.is_symlink()
    assert stat.S_IMODE(planted.stat().st_mode) == 0o700
    assert (victim / "keep.txt").read_text() == "keep"
