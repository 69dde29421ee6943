"""Drive trouble: many pages, 429/500 bursts, a revoked token, an unshared folder, quota."""
import base64
import io
import time

import pytest
from PIL import Image

from phopy.data import get_database
from phopy.jobs import schedule
from phopy.google import sync as drive
from tests.google.conftest import grant_drive
from tests.google.test_drive_sync import connect, last_result, link, photo_names


def run_sync(app, event_id, manual=False):
    from tests.conftest import index_all
    conn = connect(app)
    try:
        drive.enqueue_sync(conn, event_id, manual=manual)
    finally:
        conn.close()
    index_all(app)
    conn = connect(app)
    try:
        return drive.latest_sync(conn, event_id)
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def no_auto_index(gapp):
    gapp.config["AUTO_INDEX"] = False


def tiny_png(i):
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (i % 256, (i // 256) % 256, 120)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_a_thousand_files_across_pages(gapp, google, owner, event_folder):
    root = google.call("POST", "/_fake/files", {"name": "Marathon", "parent": "root",
                                                "mimeType": "application/vnd.google-apps.folder"})
    for i in range(990):
        google.call("POST", "/_fake/files", {"name": f"IMG_{i:04d}.png", "parent": root["id"],
                                             "content_b64": tiny_png(i)})
    for i in range(10):
        google.call("POST", "/_fake/files", {"name": f"clip_{i}.mp4", "parent": root["id"],
                                             "content_b64": base64.b64encode(b"x" * 9).decode()})
    google.call("POST", "/_fake/settings", {"max_page_size": 100})
    google.folders["marathon"] = root["id"]
    event, summary, _task = link(gapp, google, owner, "marathon")
    assert summary["photos"] == 990 and summary["others"] == 10
    from tests.conftest import index_all
    index_all(gapp)  # the link queued the first sync
    result = last_result(gapp, event["id"])["last_result"]
    assert result["added"] == 990 and result["others"] == 10 and not result["failed"]
    assert google.state()["counts"]["list"] >= 20  # 10 pages for the check, 10 for the sync
    assert google.media_count() == 990  # the clips were never downloaded
    assert len(photo_names(gapp, event["id"])) == 990


def test_bursts_of_429_and_500_are_retried_and_a_lost_file_is_listed(gapp, google, owner,
                                                                     event_folder):
    biden = next(f for f in google.files_in(google.folder_id(event_folder))
                 if f["name"] == "biden.jpg")
    # biden.jpg fails 4 times in a row (1 try + 3 retries); other downloads meet bursts.
    google.call("POST", "/_fake/faults", {"status": 503, "count": 4, "match": biden["id"]})
    google.call("POST", "/_fake/faults", {"status": 429, "count": 3, "match": "alt=media",
                                          "retry_after": 0})
    google.call("POST", "/_fake/faults", {"status": 500, "count": 2, "match": "files?"})
    from tests.conftest import index_all
    event, _summary, _task = link(gapp, google, owner, event_folder)
    index_all(gapp)
    result = last_result(gapp, event["id"])["last_result"]
    assert [f["name"] for f in result["failed"]] == ["biden.jpg"]
    assert "503" in result["failed"][0]["error"] or "Fake" in result["failed"][0]["error"]
    assert result["added"] == 3  # the rest went on
    # The next sync fetches only the file that failed (nothing else changed).
    before = google.media_count()
    task = run_sync(gapp, event["id"], manual=True)
    assert task["status"] == "completed"
    assert google.media_count() == before + 1
    assert "biden.jpg" in photo_names(gapp, event["id"])


def test_retry_after_is_honoured(gapp, google, owner, event_folder):
    google.call("POST", "/_fake/faults", {"status": 429, "count": 1, "match": "alt=media",
                                          "retry_after": 1})
    from tests.conftest import index_all
    event, _summary, _task = link(gapp, google, owner, event_folder)
    started = time.monotonic()
    index_all(gapp)
    assert time.monotonic() - started >= 1.0  # waited what Google asked, not 0.01 s
    assert not last_result(gapp, event["id"])["last_result"]["failed"]


def test_revoked_token_pauses_syncs_and_keeps_photos(gapp, google, owner, event_folder):
    from tests.conftest import index_all, login
    event, _summary, _task = link(gapp, google, owner, event_folder)
    index_all(gapp)
    names = photo_names(gapp, event["id"])
    google.call("POST", "/_fake/revoke_all")
    task = run_sync(gapp, event["id"], manual=True)
    assert task["status"] == "failed" and "Reconnect Google Drive" in task["error"]
    status = last_result(gapp, event["id"])
    assert status["status"] == "paused" and status["error_reason"] == "revoked"
    assert photo_names(gapp, event["id"]) == names  # nothing indexed is lost
    # Scheduled syncs skip the paused link instead of hammering Google.
    conn = connect(gapp)
    entry = next(e for e in schedule.all_entries() if e.kind == "drive_sync_all")
    schedule.enqueue_periodic(conn, entry)
    conn.close()
    index_all(gapp)
    conn = connect(gapp)
    assert conn.scalar("SELECT COUNT(*) FROM tasks WHERE kind = 'drive_sync' AND status = "
                       "'pending'") == 0
    conn.close()
    client = gapp.test_client()
    login(client)
    page = client.get(f"/dashboard/events/{event['id']}")
    assert b"Reconnect Google Drive" in page.data and b"revoked" in page.data
    # Reconnecting resumes.
    grant_drive(gapp, google, owner["id"])
    assert run_sync(gapp, event["id"])["status"] == "completed"
    assert last_result(gapp, event["id"])["status"] == "ok"


def test_unshared_folder_and_quota_pause_without_deleting(gapp, google, owner, event_folder):
    from tests.conftest import index_all
    event, _summary, _task = link(gapp, google, owner, event_folder)
    index_all(gapp)
    names = photo_names(gapp, event["id"])
    google.call("POST", f"/_fake/unshare/{google.folder_id(event_folder)}")
    run_sync(gapp, event["id"], manual=True)
    assert last_result(gapp, event["id"])["error_reason"] == "not_found"
    assert photo_names(gapp, event["id"]) == names
    google.call("POST", "/_fake/faults", {"status": 403, "count": 50, "match": "/drive/v3/",
                                          "reason": "dailyLimitExceeded"})
    run_sync(gapp, event["id"], manual=True)
    assert last_result(gapp, event["id"])["error_reason"] == "quota"
    assert photo_names(gapp, event["id"]) == names


def test_public_folder_through_the_api_key(tmp_path, faces_dir, event_folder):
    from phopy import create_app
    from tests.conftest import index_all, login, make_event, make_photographer, make_test_config
    from tests.fakes.google_fixture import FakeGoogle
    fake = FakeGoogle(public_folders=[event_folder])
    try:
        app = create_app(make_test_config(tmp_path / "pub", AUTO_INDEX=False, **fake.config()))
        user = make_photographer(app)
        event = make_event(app, user["id"], "Open Day")
        client = app.test_client()
        login(client)
        folder = fake.folder_id(event_folder)
        check = client.get(f"/dashboard/events/{event['id']}/drive/check?public=1&folder="
                           f"https://drive.google.com/drive/folders/{folder}")
        assert check.status_code == 200 and b"5 photos to import" in check.data
        client.post(f"/dashboard/events/{event['id']}/drive/link",
                    data={"folder": folder, "public": "1"})
        index_all(app)
        assert len(photo_names(app, event["id"])) == 4
        # Without the public flag (no Drive grant) nothing is read.
        assert client.get(f"/dashboard/events/{event['id']}/drive/check?folder={folder}"
                          ).status_code == 400
    finally:
        fake.stop()


def test_scheduled_sync_runs_while_the_event_is_open_only(gapp, google, owner, event_folder):
    from phopy.services import retention
    from tests.conftest import index_all
    event, _summary, _task = link(gapp, google, owner, event_folder)
    index_all(gapp)
    entry = next(e for e in schedule.all_entries() if e.kind == "drive_sync_all")

    def scheduled_syncs():
        conn = connect(gapp)
        schedule.enqueue_periodic(conn, entry)
        conn.close()
        index_all(gapp)
        conn = connect(gapp)
        try:
            return conn.scalar("SELECT COUNT(*) FROM tasks WHERE kind = 'drive_sync' "
                               "AND event_id = ?", (event["id"],))
        finally:
            conn.close()

    before = scheduled_syncs()
    assert scheduled_syncs() == before + 1  # open: each round syncs the folder
    conn = connect(gapp)
    retention.mark_closed(conn, event["id"])
    conn.close()
    assert scheduled_syncs() == before + 1  # closed: the schedule leaves it alone
