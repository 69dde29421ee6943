"""Bad files and odd photos: each handled, nothing else disturbed."""
import io
import shutil

import pytest
from PIL import Image

from tests.conftest import db_rows, index_all, login, make_event, make_photographer


@pytest.fixture
def odd_files(faces_dir, tmp_path):
    """A truncated JPEG, a zero-byte file, text named .jpg, a 20 MB file, an EXIF-rotated photo."""
    src = faces_dir / "group_photos" / "fr_two_people.jpg"
    data = src.read_bytes()
    files = {}
    files["truncated.jpg"] = data[: len(data) // 3]
    files["empty.jpg"] = b""
    files["notes.jpg"] = b"this is a text file, not a photo\n" * 10
    big = Image.effect_noise((2600, 2600), 120).convert("RGB")
    buf = io.BytesIO()
    big.save(buf, "PNG")
    files["huge.png"] = buf.getvalue() + b"\0" * max(0, 20 * 1024 * 1024 - len(buf.getvalue()))
    # Pixels turned on their side; the EXIF tag (6 = rotate 90° CW to view) makes them upright.
    upright = Image.open(faces_dir / "face_recognition_examples" / "obama.jpg").convert("RGB")
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    sideways.save(buf, "JPEG", exif=exif.tobytes(), quality=92)
    files["rotated.jpg"] = buf.getvalue()
    files["good.jpg"] = (faces_dir / "group_photos" / "fr_kit_with_rose.jpg").read_bytes()
    return files


def upload(client, event, name, data):
    return client.post(f"/dashboard/events/{event['id']}/photos",
                       data={"photos": [(io.BytesIO(data), name)]},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})


def test_odd_uploads(face_app, faces_dir, odd_files):
    client = face_app.test_client()
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"], "Odd files")
    login(client)

    good = upload(client, event, "good.jpg", odd_files["good.jpg"])
    assert good.status_code == 200 and good.get_json()["added"] == 1

    too_big = upload(client, event, "huge.png", odd_files["huge.png"])
    assert too_big.status_code == 413
    assert too_big.get_json()["error"] == "file_too_large"
    page = client.post(f"/dashboard/events/{event['id']}/photos",
                       data={"photos": [(io.BytesIO(odd_files["huge.png"]), "huge.png")]},
                       content_type="multipart/form-data")
    assert page.status_code == 303  # back to the event page with the message flashed
    assert b"larger than 10 MB" in client.get(page.headers["Location"]).data

    for name in ("empty.jpg", "notes.jpg"):
        rejected = upload(client, event, name, odd_files[name])
        assert rejected.status_code == 415, name
        assert rejected.get_json()["rejected"][0]["filename"] == name

    for name in ("truncated.jpg", "rotated.jpg"):
        assert upload(client, event, name, odd_files[name]).get_json()["added"] == 1
    again = upload(client, event, "copy-of-good.jpg", odd_files["good.jpg"])
    assert again.get_json()["duplicates"] == 1 and again.get_json()["added"] == 0

    index_all(face_app)
    checkpoints = {r["filename"]: r for r in db_rows(face_app,
        "SELECT p.filename, c.status, c.faces_count, c.error FROM photos p "
        "JOIN photo_checkpoints c ON c.photo_id = p.id")}
    assert set(checkpoints) == {"good.jpg", "truncated.jpg", "rotated.jpg"}
    assert checkpoints["truncated.jpg"]["status"] == "error" and checkpoints["truncated.jpg"]["error"]
    assert checkpoints["good.jpg"]["faces_count"] == 2
    assert checkpoints["rotated.jpg"]["faces_count"] == 1
    task = db_rows(face_app, "SELECT status FROM tasks")[-1]
    assert task["status"] == "completed"

    # The rotated photo was stored upright: its face box sits in an upright portrait frame.
    row = db_rows(face_app, "SELECT p.width, p.height, f.box_top, f.box_bottom FROM photos p "
                  "JOIN faces f ON f.photo_id = p.id WHERE p.filename = 'rotated.jpg'")[0]
    original = Image.open(faces_dir / "face_recognition_examples" / "obama.jpg")
    assert (row["width"], row["height"]) == original.size

    # The selfie finds the upright version; the truncated photo is listed with its error.
    body = client.post(f"/api/events/{event['id']}/search", data={"selfies": [
        (io.BytesIO((faces_dir / "face_recognition_examples" / "obama2.jpg").read_bytes()), "me.jpg")]},
        content_type="multipart/form-data").get_json()
    assert [p["filename"] for p in body["photos"]] == ["rotated.jpg"]
    status = client.get(f"/api/event/{event['id']}/checkpoint/status").get_json()
    assert status["error"] == 1 and status["errors"][0]["filename"] == "truncated.jpg"
    assert status["complete"] is True


def test_selfie_over_10_mb_is_413(face_app, odd_files):
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"], "Big selfie")
    client = face_app.test_client()
    response = client.post(f"/api/events/{event['id']}/search",
                           data={"selfies": [(io.BytesIO(odd_files["huge.png"]), "me.png")]},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and response.get_json()["error"] == "file_too_large"
    page = client.post(f"/e/{event['code']}",
                       data={"selfies": [(io.BytesIO(odd_files["huge.png"]), "me.png")]},
                       content_type="multipart/form-data")
    assert page.status_code == 413 and b"10 MB" in page.data
