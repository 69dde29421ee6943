"""kill -9 mid-import: the restarted server resumes without downloading finished files."""
import os
import signal
import time

import pytest

from phopy import create_app
from phopy.data import get_database
from phopy.google import sync as drive, accounts as google_accounts
from tests.conftest import make_event, make_photographer, make_test_config
from tests.fakes.google_fixture import FakeGoogle
from tests.google.conftest import grant_drive
from tests.jobs.test_resume import free_port, start_server, wait_for


@pytest.mark.slow
def test_kill_9_mid_import_resumes_without_downloading_again(tmp_path, faces_dir):
    folder = faces_dir / "group_photos"
    google = FakeGoogle(folders=[folder])
    servers = []
    try:
        from cryptography.fernet import Fernet
        cfg = dict(google.config(), GOOGLE_TOKEN_KEY=Fernet.generate_key().decode())
        settings = {k: str(v) for k, v in cfg.items()}
        settings.update(AUTO_INDEX="0", DRIVE_SYNC_MINUTES="0", DRIVE_DOWNLOAD_WORKERS="2")
        os.environ.update(settings)  # read by the server processes' Config
        app = create_app(make_test_config(tmp_path, **cfg))
        owner = make_photographer(app)
        grant_drive(app, google, owner["id"])
        event = make_event(app, owner["id"], "Kill nine")
        google.call("POST", "/_fake/settings", {"bandwidth": 300 * 1024})
        conn = get_database(app).connect()
        client = google_accounts.drive_client(conn, app.config, owner["id"])
        drive.link_folder(conn, app.config, client, event["id"], owner["id"],
                          google.folder_id(folder))
        n_photos = drive.check_folder(client, google.folder_id(folder))["photos"]

        def imported():
            return conn.all("SELECT file_id FROM drive_files WHERE status = 'imported'")

        server = start_server(tmp_path / "data", tmp_path / "logs", free_port())
        servers.append(server)
        wait_for(lambda: len(imported()) >= 3, 120, "the first files to be imported")
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        done = {r["file_id"] for r in imported()}
        assert len(done) < n_photos, "the import finished before the kill"
        google.call("POST", "/_fake/settings", {"bandwidth": 0})

        server = start_server(tmp_path / "data", tmp_path / "logs", free_port())
        servers.append(server)
        wait_for(lambda: conn.scalar("SELECT status FROM tasks WHERE kind = 'drive_sync'")
                 == "completed", 180, "the resumed import to complete")
        media = google.state()["counts"]["media"]
        assert all(media[fid] == 1 for fid in done)  # finished files never fetched again
        assert len(imported()) == n_photos
        assert conn.scalar("SELECT COUNT(*) FROM photos") == n_photos
        leftovers = [p for p in (tmp_path / "data").rglob("*") if p.name.startswith(".tmp-")]
        assert leftovers == []
        conn.close()
    finally:
        for server in servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
        for key in ("AUTO_INDEX", "DRIVE_SYNC_MINUTES", "DRIVE_DOWNLOAD_WORKERS",
                    "GOOGLE_TOKEN_KEY", *google.config()):
            os.environ.pop(key, None)
        google.stop()
