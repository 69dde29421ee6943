"""Drive photos are indexed with real dlib and found with a selfie; deleted ones vanish."""
import base64

import pytest

from phopy.google import sync as drive
from tests.conftest import ENGINE_NAMES, file_upload, index_all, use_engine
from tests.google.test_drive_sync import connect, link


@pytest.fixture(params=ENGINE_NAMES)
def gface_app(request, gapp, engine_for):
    """The Google app under each face engine in turn (the end-to-end Drive search)."""
    return use_engine(gapp, *engine_for(request.param))


def search(app, event, selfie):
    response = app.test_client().post(f"/api/events/{event['id']}/search",
                                      data={"selfies": [file_upload(selfie)]},
                                      content_type="multipart/form-data")
    assert response.status_code == 200, response.data
    return sorted(p["filename"] for p in response.get_json()["photos"])


def test_added_photo_shows_up_and_deleted_photo_disappears(gface_app, google, owner,
                                                          event_folder, faces_dir):
    app = gface_app
    event, _summary, _task = link(app, google, owner, event_folder)
    index_all(app)  # sync, then the indexing it queued
    obama = faces_dir / "face_recognition_examples" / "obama.jpg"
    assert search(app, event, obama) == ["obama3.jpg", "two_people.jpg"]
    conn = connect(app)
    status = drive.link_status(conn, event["id"])
    assert status["last_result"]["added"] == 4
    errors = conn.all("SELECT p.filename FROM photo_checkpoints c JOIN photos p ON "
                      "p.id = c.photo_id WHERE c.status = 'error'")
    assert [r["filename"] for r in errors] == ["truncated.jpg"]  # recorded, not fatal

    # A photo dropped into the folder during the event, and one deleted from it.
    folder_id = google.folder_id(event_folder)
    late = (faces_dir / "group_photos" / "fr_obama_and_biden.jpg").read_bytes()
    google.call("POST", "/_fake/files", {"name": "late.jpg", "parent": folder_id,
                                         "content_b64": base64.b64encode(late).decode()})
    day2 = next(f for f in google.files_in(folder_id) if f["name"] == "day2")
    obama3 = google.files_in(day2["id"])[0]
    google.call("DELETE", f"/_fake/files/{obama3['id']}")
    drive.enqueue_sync(conn, event["id"])
    conn.close()
    index_all(app)
    assert search(app, event, obama) == ["late.jpg", "two_people.jpg"]
    conn = connect(app)
    assert conn.scalar("SELECT COUNT(*) FROM faces f JOIN photos p ON p.id = f.photo_id "
                       "WHERE p.filename = 'obama3.jpg'") == 0
    assert conn.scalar("SELECT COUNT(*) FROM faces WHERE photo_id NOT IN "
                       "(SELECT id FROM photos)") == 0
    conn.close()
