"""Photographer A cannot see, change or delete photographer B's event or photos."""
import io

from PIL import Image

from tests.conftest import add_files, db_rows, login, make_event, make_photographer


def _jpeg_bytes(color):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


def test_other_photographers_event_is_invisible_and_untouchable(app, client, tmp_path):
    ann = make_photographer(app, "ann@example.com")
    bob = make_photographer(app, "bob@example.com")
    bobs = make_event(app, bob["id"], "Bob's wedding")
    photo_file = tmp_path / "p.jpg"
    photo_file.write_bytes(_jpeg_bytes("red"))
    add_files(app, bobs["id"], [photo_file], queue=False)
    photo_id = db_rows(app, "SELECT id FROM photos")[0]["id"]

    login(client, "ann@example.com")
    assert b"Bob&#39;s wedding" not in client.get("/dashboard/").data
    base = f"/dashboard/events/{bobs['id']}"
    for method, url in [
        ("get", base), ("get", f"{base}/qr.png"),
        ("get", f"{base}/photos/{photo_id}/thumb"), ("get", f"{base}/photos/{photo_id}/original"),
        ("post", f"{base}/photos"), ("post", f"{base}/index"), ("post", f"{base}/settings"),
        ("post", f"{base}/photos/{photo_id}/delete"), ("post", f"{base}/delete"),
        ("get", f"/api/event/{bobs['id']}/task"), ("get", f"/api/event/{bobs['id']}/checkpoint/status"),
    ]:
        kwargs = {}
        if url.endswith("/photos"):
            kwargs = {"data": {"photos": [(io.BytesIO(_jpeg_bytes("blue")), "x.jpg")]},
                      "content_type": "multipart/form-data"}
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == 404, (method, url, response.status_code)

    # Nothing of Bob's changed.
    assert db_rows(app, "SELECT COUNT(*) AS n FROM photos")[0]["n"] == 1
    event = db_rows(app, "SELECT * FROM events WHERE id = ?", (bobs["id"],))[0]
    assert event["is_listed"] == 0 and event["owner_id"] == bob["id"]
    assert db_rows(app, "SELECT COUNT(*) AS n FROM tasks")[0]["n"] == 0

    # Bob's task is not visible to Ann through the task API either.
    client.post("/auth/logout")
    login(client, "bob@example.com")
    task_id = client.post(f"{base}/index", headers={"Accept": "application/json"}).get_json()["id"]
    assert client.get(f"/api/task/{task_id}").status_code == 200
    client.post("/auth/logout")
    login(client, "ann@example.com")
    assert client.get(f"/api/task/{task_id}").status_code == 404
    assert ann["id"] != bob["id"]


def test_owner_can_delete_event_and_its_files_go(app, client, tmp_path):
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Short lived")
    photo_file = tmp_path / "p.jpg"
    photo_file.write_bytes(_jpeg_bytes("green"))
    add_files(app, event["id"], [photo_file])
    data = tmp_path / "data"
    assert any((data / "originals" / event["id"]).iterdir())
    login(client)
    response = client.post(f"/dashboard/events/{event['id']}/delete")
    assert response.status_code == 302
    for table in ("events", "photos", "tasks", "faces", "photo_checkpoints"):
        assert db_rows(app, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0
    assert not (data / "originals" / event["id"]).exists()
    assert not (data / "thumbnails" / event["id"]).exists()
    assert not (data / "qr" / f"{event['id']}.png").exists()


def test_owner_pages_through_photos_and_deletes_one(app, client, tmp_path):
    app.config["DASHBOARD_PAGE_SIZE"] = 2
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Paged")
    files = []
    for n, color in enumerate(("red", "green", "blue")):
        path = tmp_path / f"p{n}.jpg"
        path.write_bytes(_jpeg_bytes(color))
        files.append(path)
    add_files(app, event["id"], files, queue=False)
    login(client)
    first = client.get(f"/dashboard/events/{event['id']}").data.decode()
    assert "p2.jpg" in first and "p1.jpg" in first and "p0.jpg" not in first
    assert "Page 1 of 2" in first
    second = client.get(f"/dashboard/events/{event['id']}?page=2").data.decode()
    assert "p0.jpg" in second and "p2.jpg" not in second
    assert client.get(f"/dashboard/events/{event['id']}?page=99").status_code == 200

    doomed = db_rows(app, "SELECT id, storage_key FROM photos WHERE filename = 'p0.jpg'")[0]
    response = client.post(f"/dashboard/events/{event['id']}/photos/{doomed['id']}/delete")
    assert response.status_code == 302
    assert [r["filename"] for r in db_rows(app, "SELECT filename FROM photos ORDER BY id")] == \
        ["p1.jpg", "p2.jpg"]
    assert not (tmp_path / "data" / doomed["storage_key"]).exists()
    assert "Page 1 of" not in client.get(f"/dashboard/events/{event['id']}").data.decode()
