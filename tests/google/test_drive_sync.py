"""Drive import and sync through the real Google client libraries against the fake."""
import base64

from phopy.data import get_database
from phopy.data import google as google_db
from phopy.google import sync as drive, accounts as google_accounts
from tests.conftest import index_all, make_event


def connect(app):
    return get_database(app).connect()


def link(app, google, owner, folder, **kw):
    conn = connect(app)
    try:
        event = make_event(app, owner["id"], "Press Day", **kw)
        client = google_accounts.drive_client(conn, app.config, owner["id"])
        summary, task = drive.link_folder(conn, app.config, client, event["id"], owner["id"],
                                          google.folder_id(folder))
        return event, summary, task
    finally:
        conn.close()


def last_result(app, event_id):
    conn = connect(app)
    try:
        return drive.link_status(conn, event_id)
    finally:
        conn.close()


def photo_names(app, event_id):
    conn = connect(app)
    try:
        return sorted(r["filename"] for r in conn.all(
            "SELECT filename FROM photos WHERE event_id = ?", (event_id,)))
    finally:
        conn.close()


def test_check_counts_photos_and_other_files(gapp, google, owner, event_folder):
    event, summary, _task = link(gapp, google, owner, event_folder)
    # 2 photos + empty + truncated at the top, 1 in day2; README, PDF and a Google Doc.
    assert summary == {"id": google.folder_id(event_folder), "name": "Press Day", "photos": 5,
                       "others": 3, "can_download": True, "include_subfolders": True}


def test_import_is_incremental_and_follows_deletes_and_changes(gapp, google, owner,
                                                               event_folder, faces_dir):
    gapp.config["AUTO_INDEX"] = False
    event, _summary, _task = link(gapp, google, owner, event_folder)
    index_all(gapp)
    status = last_result(gapp, event["id"])
    result = status["last_result"]
    assert status["status"] == "ok"
    assert result["photos"] == 5 and result["others"] == 3 and result["added"] == 4
    assert [r["name"] for r in result["rejected"]] == ["empty.jpg"]
    assert photo_names(gapp, event["id"]) == ["biden.jpg", "obama3.jpg", "truncated.jpg",
                                              "two_people.jpg"]
    downloads = google.media_count()
    assert downloads == 5  # each photo file once, the empty one included

    # Nothing changed: no download at all (the Changes API says so).
    conn = connect(gapp)
    drive.enqueue_sync(conn, event["id"])
    conn.close()
    index_all(gapp)
    assert google.media_count() == downloads

    # A photo added, one deleted, one changed: only those are fetched.
    folder_id = google.folder_id(event_folder)
    files = {f["name"]: f for f in google.files_in(folder_id)}
    new = (faces_dir / "face_recognition_examples" / "obama.jpg").read_bytes()
    added = google.call("POST", "/_fake/files", {"name": "late.jpg", "parent": folder_id,
                                                 "content_b64": base64.b64encode(new).decode()})
    google.call("DELETE", f"/_fake/files/{files['biden.jpg']['id']}")
    kit = (faces_dir / "group_photos" / "fr_kit_with_rose.jpg").read_bytes()
    google.call("POST", f"/_fake/files/{files['two_people.jpg']['id']}/content",
                {"content_b64": base64.b64encode(kit).decode()})
    conn = connect(gapp)
    drive.enqueue_sync(conn, event["id"])
    conn.close()
    index_all(gapp)
    assert google.media_count(added["id"]) == 1
    assert google.media_count(files["two_people.jpg"]["id"]) == 2
    assert google.media_count() == downloads + 2
    assert photo_names(gapp, event["id"]) == ["late.jpg", "obama3.jpg", "truncated.jpg",
                                              "two_people.jpg"]
    result = last_result(gapp, event["id"])["last_result"]
    assert result["deleted"] == 1 and result["added"] == 2


def test_linking_another_folder_keeps_the_photos_so_far(gapp, google, owner, event_folder,
                                                        faces_dir):
    from tests.conftest import index_all
    gapp.config["AUTO_INDEX"] = False
    event, _summary, _task = link(gapp, google, owner, event_folder)
    index_all(gapp)
    before = photo_names(gapp, event["id"])
    other = google.call("POST", "/_fake/files", {
        "name": "Day 3", "parent": "root", "mimeType": "application/vnd.google-apps.folder"})
    kit = (faces_dir / "group_photos" / "fr_kit_with_rose.jpg").read_bytes()
    google.call("POST", "/_fake/files", {"name": "kit.jpg", "parent": other["id"],
                                         "content_b64": base64.b64encode(kit).decode()})
    conn = connect(gapp)
    client = google_accounts.drive_client(conn, gapp.config, owner["id"])
    drive.link_folder(conn, gapp.config, client, event["id"], owner["id"], other["id"])
    conn.close()
    index_all(gapp)
    assert photo_names(gapp, event["id"]) == sorted(before + ["kit.jpg"])
