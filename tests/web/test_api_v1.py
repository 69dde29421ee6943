"""The REST API through the test client: keys, events, photos, pagination, search."""
import re

import pytest
from openapi_spec_validator import validate

from tests.conftest import (db_rows, file_upload, index_all, login, make_event,
                            make_photographer)
from tests.web.api_helpers import bearer, make_key

GROUP = ["fr_two_people.jpg", "fr_obama_and_biden.jpg", "fr_kit_with_rose.jpg"]


@pytest.fixture
def ann(app):
    user = make_photographer(app)
    _row, key = make_key(app, user["id"])
    return {"user": user, "key": key, "h": bearer(key)}


def test_key_is_stored_hashed_shown_once_and_marks_last_use(app, client, ann):
    rows = db_rows(app, "SELECT * FROM api_keys")
    assert len(rows) == 1 and ann["key"] not in str(rows[0])
    assert rows[0]["last_used_at"] is None and ann["key"].startswith(rows[0]["prefix"])
    assert client.get("/api/events", headers=ann["h"]).status_code == 200
    assert db_rows(app, "SELECT last_used_at FROM api_keys")[0]["last_used_at"]


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Basic YW5uOnB3", "Token phopy_x", "Bearer a b",
    "Bearer phopy_" + "A" * 40, "Bearer not-a-key", "bearer"])
def test_malformed_or_unknown_keys_get_401(client, ann, header):
    response = client.get("/api/events", headers={"Authorization": header})
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] in ("unauthorized", "invalid_authorization") and body["message"]


def test_revoked_key_stops_working(app, client, ann):
    login(client)
    key_id = db_rows(app, "SELECT id FROM api_keys")[0]["id"]
    assert client.post(f"/dashboard/api-keys/{key_id}/revoke").status_code == 303
    client.post("/auth/logout")
    response = client.get("/api/events", headers=ann["h"])
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_someone_elses_event_is_not_found_and_unchanged(app, client, ann):
    bob = make_photographer(app, "bob@example.com")
    event = make_event(app, bob["id"], "Bob's wedding")
    url = f"/api/events/{event['id']}"
    assert client.get(url, headers=ann["h"]).status_code == 404
    assert client.patch(url, json={"name": "Hijacked"}, headers=ann["h"]).status_code == 404
    assert client.delete(url, headers=ann["h"]).status_code == 404
    assert client.get(url + "/photos", headers=ann["h"]).status_code == 404
    assert db_rows(app, "SELECT name FROM events")[0]["name"] == "Bob's wedding"


def test_anonymous_calls_need_a_key_or_session(client):
    response = client.get("/api/events")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_event_crud_with_a_key(app, client, ann):
    response = client.post("/api/events", headers=ann["h"], json={
        "name": "  Songkran <b>2026</b> ", "event_date": "2026-04-13", "location": "Chiang Mai",
        "auto_index": False})
    assert response.status_code == 201, response.data
    event = response.get_json()
    assert event["name"] == "Songkran 2026" and event["auto_index"] is False
    assert re.fullmatch(r"[A-Z0-9]{6}", event["code"]) and event["photo_count"] == 0
    assert response.headers["Location"].endswith(f"/api/events/{event['id']}")
    url = f"/api/events/{event['id']}"
    assert client.get(url, headers=ann["h"]).get_json() == event
    changed = client.patch(url, headers=ann["h"], json={"is_listed": True, "location": None})
    assert changed.status_code == 200
    assert changed.get_json()["is_listed"] is True and changed.get_json()["location"] is None
    assert changed.get_json()["name"] == "Songkran 2026"
    assert client.delete(url, headers=ann["h"]).status_code == 204
    assert client.get(url, headers=ann["h"]).status_code == 404
    assert db_rows(app, "SELECT COUNT(*) AS n FROM events")[0]["n"] == 0


def test_events_page_by_page(app, client, ann):
    for i in range(5):
        make_event(app, ann["user"]["id"], f"Event number {i}")
    make_event(app, make_photographer(app, "bob@example.com")["id"], "Not Ann's")
    first = client.get("/api/events?per_page=2", headers=ann["h"]).get_json()
    assert (first["total"], first["pages"], first["page"], len(first["items"])) == (5, 3, 1, 2)
    seen = [e["id"] for p in (1, 2, 3) for e in client.get(
        f"/api/events?per_page=2&page={p}", headers=ann["h"]).get_json()["items"]]
    assert len(seen) == len(set(seen)) == 5
    beyond = client.get("/api/events?per_page=2&page=4", headers=ann["h"])
    assert beyond.status_code == 200 and beyond.get_json()["items"] == []
    full = client.get("/api/events?per_page=100", headers=ann["h"]).get_json()
    assert len(full["items"]) == 5 and full["pages"] == 1


def test_upload_list_and_search_obama_with_a_key(face_app, faces_dir):
    client = face_app.test_client()
    user = make_photographer(face_app)
    h = bearer(make_key(face_app, user["id"])[1])
    event = client.post("/api/events", headers=h, json={"name": "Press Day"}).get_json()
    files = [file_upload(faces_dir / "group_photos" / n) for n in GROUP]
    files.append(file_upload(faces_dir / "no_faces" / sorted(
        p.name for p in (faces_dir / "no_faces").iterdir() if p.suffix == ".jpg")[0]))
    response = client.post(f"/api/events/{event['id']}/photos", headers=h,
                           data={"photos": files + [(__import__("io").BytesIO(b"not an image"),
                                                     "notes.txt")]},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["added"] == 4 and body["duplicates"] == 0
    assert [r["code"] for r in body["rejected"]] == ["unsupported_file"]
    assert body["task"]["status"] == "pending"
    again = client.post(f"/api/events/{event['id']}/photos", headers=h,
                        data={"photos": [file_upload(faces_dir / "group_photos" / GROUP[0])]},
                        content_type="multipart/form-data").get_json()
    assert again["added"] == 0 and again["duplicates"] == 1 and again["task"] is None
    assert index_all(face_app) == 1
    task = client.get(f"/api/tasks/{body['task']['id']}", headers=h).get_json()
    assert task["status"] == "completed" and task["progress"] == 4
    photos = client.get(f"/api/events/{event['id']}/photos?per_page=3", headers=h).get_json()
    assert photos["total"] == 4 and len(photos["items"]) == 3
    page2 = client.get(f"/api/events/{event['id']}/photos?per_page=3&page=2",
                       headers=h).get_json()["items"]
    statuses = {p["filename"]: (p["status"], p["face_count"]) for p in photos["items"] + page2}
    assert statuses["fr_two_people.jpg"] == ("indexed", 2)
    assert [s for s, _n in statuses.values()].count("no_faces") == 1
    assert client.get(page2[0]["thumbnail_url"]).status_code == 200
    selfie = faces_dir / "face_recognition_examples" / "obama.jpg"
    found = client.post("/api/search-face", data={"event_code": event["code"].lower(),
                                                  "selfies": [file_upload(selfie)]},
                        content_type="multipart/form-data")
    assert found.status_code == 200, found.data
    assert {p["filename"] for p in found.get_json()["photos"]} == {
        "fr_two_people.jpg", "fr_obama_and_biden.jpg"}
    by_id = client.post("/api/search-face", data={"event_id": event["id"],
                                                  "selfies": [file_upload(selfie)]},
                        content_type="multipart/form-data").get_json()
    assert [(p["photo_id"], p["distance"]) for p in by_id["photos"]] == [
        (p["photo_id"], p["distance"]) for p in found.get_json()["photos"]]
    log = db_rows(face_app, "SELECT * FROM search_log")
    assert [(r["selfies"], r["faces_found"], r["photos_returned"]) for r in log] == [(1, 1, 2)] * 2
    assert set(log[0]) == {"id", "event_id", "created_at", "selfies", "faces_found",
                           "photos_returned", "photo_ids", "duration_ms"}


def test_openapi_validates_and_lists_every_api_route(app, client):
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    documented = {(path, method) for path, item in spec["paths"].items()
                  for method in item if method != "parameters"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"POST /api/search-face" in page.data
    assert b"<script>" not in page.data.split(b"</head>")[1]


def test_session_writes_need_csrf_but_keys_do_not(tmp_path):
    from phopy import create_app
    from tests.conftest import make_test_config, PASSWORD
    app = create_app(make_test_config(tmp_path, WTF_CSRF_ENABLED=True))
    user = make_photographer(app)
    key = make_key(app, user["id"])[1]
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/auth/login", data={"email": "ann@example.com", "password": PASSWORD,
                                            "csrf_token": token}).status_code == 302
    page = client.get("/dashboard/").get_data(as_text=True)  # log-in starts a new session
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    no_token = client.post("/api/events", json={"name": "No token"})
    assert no_token.status_code == 400 and no_token.get_json()["error"] == "csrf"
    with_token = client.post("/api/events", json={"name": "With token"},
                             headers={"X-CSRFToken": token})
    assert with_token.status_code == 201
    assert client.get("/api/events").status_code == 200  # reads need no token
    keyed = app.test_client().post("/api/events", json={"name": "By key"}, headers=bearer(key))
    assert keyed.status_code == 201
    assert sorted(r["name"] for r in db_rows(app, "SELECT name FROM events")) == [
        "By key", "With token"]


def test_api_keys_page_creates_shows_once_and_revokes(app, client):
    make_photographer(app)
    login(client)
    assert client.post("/dashboard/api-keys/", data={"name": ""}).status_code == 400
    created = client.post("/dashboard/api-keys/", data={"name": "Lightroom export"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    key = re.search(r'id="new-key-value"[^>]*>(phopy_[^<]+)<', created.get_data(as_text=True))
    assert key, created.data
    listing = client.get("/dashboard/api-keys/").get_data(as_text=True)
    assert "Lightroom export" in listing and key.group(1) not in listing
    assert app.test_client().get("/api/events", headers=bearer(key.group(1))).status_code == 200
    bob = make_photographer(app, "bob@example.com")
    bob_key_id = make_key(app, bob["id"])[0]["id"]
    assert client.post(f"/dashboard/api-keys/{bob_key_id}/revoke").status_code == 404
    assert db_rows(app, "SELECT revoked_at FROM api_keys WHERE id = ?",
                   (bob_key_id,))[0]["revoked_at"] is None


def test_public_event_info_needs_no_key(app, client, ann):
    event = make_event(app, ann["user"]["id"], "Open Day", location="Khon Kaen")
    body = client.get(f"/api/public/events/{event['code'].lower()}").get_json()
    assert body == {"code": event["code"], "name": "Open Day", "event_date": None,
                    "location": "Khon Kaen", "description": None, "photo_count": 0,
                    "indexing_complete": True}
    assert "id" not in body and "owner_id" not in body
    missing = client.get("/api/public/events/ZZZZZZ")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_keyed_calls_have_their_own_limit(tmp_path):
    from phopy import create_app
    from tests.conftest import make_test_config
    app = create_app(make_test_config(tmp_path, RATELIMIT_ENABLED=True,
                                      API_KEY_RATE_LIMIT="3 per minute"))
    user = make_photographer(app)
    first, second = (make_key(app, user["id"], n)[1] for n in ("one", "two"))
    client = app.test_client()
    statuses = [client.get("/api/events", headers=bearer(first)).status_code for _ in range(3)]
    statuses.append(client.post("/api/events", headers=bearer(first),
                                json={"name": "Too many"}).status_code)
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/events", headers=bearer(first))
    assert limited.status_code == 429 and limited.get_json()["error"] == "too_many_requests"
    assert client.get("/api/events", headers=bearer(second)).status_code == 200
    login(client)
    assert client.get("/api/events").status_code == 200  # the session is not a key
    assert db_rows(app, "SELECT COUNT(*) AS n FROM events")[0]["n"] == 0
