"""Backup and restore on PostgreSQL: pg_dump of one snapshot, pg_restore into an empty database."""
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import add_files, db_rows, make_event, make_photographer

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL cluster on 127.0.0.1 (skips when PostgreSQL is missing)."""
    if not (PG_BIN / "initdb").exists() or not shutil.which("pg_dump") or os.geteuid() != 0:
        pytest.skip("PostgreSQL 15 (run as root) is needed for this test")
    folder = Path(tempfile.mkdtemp(prefix="phopy-pg-"))
    shutil.chown(folder, "postgres")
    port = free_port()
    run = ["runuser", "-u", "postgres", "--"]
    subprocess.run(run + [str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-U", "phopy",
                          "--auth=trust"], check=True, capture_output=True)
    subprocess.run(run + [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-l",
                          str(folder / "log"), "-o", f"-p {port} -k {folder} -c "
                          "listen_addresses=127.0.0.1 -c fsync=off", "-w", "start"],
                   check=True, capture_output=True)
    try:
        for name in ("source", "target"):
            subprocess.run(run + [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                  "-U", "phopy", name], check=True, capture_output=True)
        yield f"postgresql://phopy@127.0.0.1:{port}"
    finally:
        subprocess.run(run + [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast",
                              "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgresql_round_trip(postgres, tmp_path, faces_dir):
    from phopy import create_app
    from phopy.data import get_database
    from tests.conftest import make_test_config
    app = create_app(make_test_config(tmp_path / "a", DATABASE_URL=postgres + "/source"))
    get_database(app).init_schema()
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "PG party")
    add_files(app, event["id"], [faces_dir / "group_photos" / "fr_two_people.jpg"])
    env = dict(os.environ, DATABASE_URL=postgres + "/source")
    made = subprocess.run([str(Path(__file__).parent.parent / "scripts" / "backup.sh"), "--out",
                           str(tmp_path / "out")], env=dict(env, PHOPY_DATA_DIR=app.config[
                               "DATA_DIR"]), capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    archive = made.stdout.strip()
    target = tmp_path / "restored"
    restored = subprocess.run([str(Path(__file__).parent.parent / "scripts" / "restore.sh"),
                               archive], env=dict(os.environ, DATABASE_URL=postgres + "/target",
                                                  PHOPY_DATA_DIR=str(target)),
                              capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr
    copy = create_app(make_test_config(tmp_path / "b", DATABASE_URL=postgres + "/target",
                                       DATA_DIR=str(target)))
    for sql in ("SELECT id, code, name FROM events", "SELECT id, content_hash FROM photos",
                "SELECT id, status FROM tasks"):
        assert db_rows(copy, sql) == db_rows(app, sql) != []
    again = subprocess.run([str(Path(__file__).parent.parent / "scripts" / "restore.sh"),
                            archive], env=dict(os.environ, DATABASE_URL=postgres + "/target",
                                               PHOPY_DATA_DIR=str(tmp_path / "empty")),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "not empty" in again.stderr
