""""Is this you?": two tiers, "This is me" / "Not me", and confirmed faces that find the
rest — end to end on real photos with the default engine (SFace), real SQLite/PostgreSQL.

The event holds five photos of Obama and three of other people. The deployment's bands
are set (as a deployment may) from the selfie's real distances to his photos, so that it
is sure of one photo, unsure of two, and blind to two more: the ones only a photo he
confirms can reach.
"""
import dataclasses
import io
import re

import numpy as np
import pytest
from PIL import Image

from phopy.data import get_database
from tests.conftest import (ENGINE_NAMES, add_files, file_upload, index_all, login,
                            make_event, make_photographer, use_engine)

EXAMPLES = "face_recognition_examples"
OBAMA = {"obama-480p.jpg": f"{EXAMPLES}/obama-480p.jpg",
         "fr_two_people.jpg": "group_photos/fr_two_people.jpg",
         "obama1.jpg": f"{EXAMPLES}/knn_examples/test/obama1.jpg",
         "fr_obama_and_biden.jpg": "group_photos/fr_obama_and_biden.jpg",
         "obama2.jpg": f"{EXAMPLES}/obama2.jpg"}
OTHERS = {"biden.jpg": f"{EXAMPLES}/biden.jpg",
          "alex_lacamoire1.jpg": f"{EXAMPLES}/knn_examples/test/alex_lacamoire1.jpg",
          "fr_kit_with_rose.jpg": "group_photos/fr_kit_with_rose.jpg"}


@pytest.fixture
def event_app(app, engine_for, faces_dir):
    """The event indexed with the default engine, and bands set from the selfie's real
    distances: sure of the closest Obama photo, unsure of the next two, blind to the rest."""
    engine, pool = engine_for(ENGINE_NAMES[0])
    use_engine(app, engine, pool)
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Press Day")
    add_files(app, event["id"], [faces_dir / p for p in {**OBAMA, **OTHERS}.values()])
    assert index_all(app) == 1
    app.config["test_event"], app.config["test_owner"] = event, owner
    bands(app, engine.settings, tolerance=0.01, borderline=0.6)
    wide = api_search(app.test_client(), event, faces_dir)
    seen = sorted((c["distance"], name) for name, c in candidates(app, wide).items())
    assert [name for _d, name in seen if name in OTHERS] == []  # strangers far beyond 0.6
    assert len(seen) == len(OBAMA), seen  # every photo of him, once each
    d = [distance for distance, _name in seen]
    app.config["test_order"] = [name for _d, name in seen]
    bands(app, engine.settings, tolerance=(d[0] + d[1]) / 2, borderline=(d[2] + d[3]) / 2)
    return app


def bands(app, settings, tolerance, borderline):
    """FACE_TOLERANCE and FACE_BORDERLINE, as a deployment sets them."""
    app.extensions["phopy_engine_settings"] = dataclasses.replace(
        settings, tolerance=tolerance, borderline=borderline)


def selfie(faces_dir):
    return faces_dir / EXAMPLES / "obama.jpg"


def api_search(client, event, faces_dir):
    response = client.post("/api/search-face", data={
        "event_code": event["code"], "selfies": [file_upload(selfie(faces_dir))]},
        content_type="multipart/form-data")
    assert response.status_code == 200, response.data
    return response.get_json()


def names(body):
    return {p["filename"] for p in body["photos"]}


def candidates(app, body):
    """{photo file name: candidate} of an answer's "is this you?" faces."""
    conn = get_database(app).connect()
    try:
        return {conn.scalar("SELECT p.filename FROM faces f JOIN photos p ON p.id = f.photo_id "
                            "WHERE f.id = ?", (c["face_id"],)): c for c in body["candidates"]}
    finally:
        conn.close()


def candidate_photos(app, body):
    return {name: c["face_id"] for name, c in candidates(app, body).items()}


def face_distances(app, face_id):
    """{photo file name: distance} from one stored face to the event's other faces (the
    engine's metric), each photo's closest face."""
    settings = app.extensions["phopy_engine_settings"]
    conn = get_database(app).connect()
    try:
        rows = conn.all("SELECT f.id, f.encoding, p.filename FROM faces f JOIN photos p "
                        "ON p.id = f.photo_id WHERE f.event_id = ?",
                        (app.config["test_event"]["id"],))
    finally:
        conn.close()
    vectors = {r["id"]: np.frombuffer(bytes(r["encoding"]), dtype="<f4") for r in rows}
    best = {}
    for r in rows:
        distance = 1.0 - float(vectors[face_id] @ vectors[r["id"]])  # cosine (SFace)
        best[r["filename"]] = min(best.get(r["filename"], 9.0), distance)
    assert settings.profile.metric == "cosine"
    return best


def answer(client, body, face_id, choice):
    return client.post(f"/api/search-sessions/{body['session_id']}/answers",
                       json={"face_id": face_id, "answer": choice})


def test_a_confirmed_borderline_photo_finds_photos_the_selfie_never_reached(event_app,
                                                                            faces_dir):
    client = event_app.test_client()
    order = event_app.config["test_order"]
    settings = event_app.extensions["phopy_engine_settings"]
    body = api_search(client, event_app.config["test_event"], faces_dir)
    assert names(body) == {order[0]}  # sure of one
    asked = candidate_photos(event_app, body)
    assert set(asked) == set(order[1:3])  # unsure of two, no stranger
    assert body["candidates"] == sorted(body["candidates"], key=lambda c: c["distance"])
    crop = client.get(body["candidates"][0]["crop_url"])
    assert crop.status_code == 200 and crop.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(crop.data)).size) <= 200  # the face, not the photo

    # he confirms the unsure face that reaches most of the photos the selfie never did
    hidden = set(order[3:])
    reach = {name: face_distances(event_app, face) for name, face in asked.items()}
    chosen = max(asked, key=lambda n: sum(reach[n][h] <= settings.borderline for h in hidden))
    reached = {h for h in hidden if reach[chosen][h] <= settings.borderline}
    assert reached, reach  # the data must let a confirmation reach further
    after = answer(client, body, asked[chosen], "me")
    assert after.status_code == 200, after.data
    found = after.get_json()
    assert found["confirmed"] == 1 and found["recorded"] is True
    assert {order[0], chosen} <= names(found)
    # what only the confirmed face reaches: his photos within the tolerance are now his,
    # the rest up to the borderline are asked about; never a stranger's
    sure = {h for h in reached if reach[chosen][h] <= settings.tolerance}
    assert sure <= names(found)
    assert reached - names(found) <= set(candidate_photos(event_app, found))
    assert (names(found) | set(candidate_photos(event_app, found))) & hidden
    assert not (names(found) | set(candidate_photos(event_app, found))) & set(OTHERS)


def test_not_me_removes_a_photo_for_good_and_replays_count_once(event_app, faces_dir):
    client = event_app.test_client()
    body = api_search(client, event_app.config["test_event"], faces_dir)
    asked = candidate_photos(event_app, body)
    name = sorted(asked)[0]
    first = answer(client, body, asked[name], "not_me").get_json()
    assert name not in candidate_photos(event_app, first)
    assert first["rejected"] == 1
    again = answer(client, body, asked[name], "not_me").get_json()
    assert again["recorded"] is False and again["rejected"] == 1
    changed = answer(client, body, asked[name], "me").get_json()
    assert changed["recorded"] is False and name not in names(changed)
    # "Not me" on a photo of "your photos" takes it out
    sure = body["photos"][0]
    out = answer(client, body, sure["face_id"], "not_me").get_json()
    assert sure["filename"] not in names(out)
    owner = event_app.config["test_owner"]
    login(client, owner["email"])
    page = client.get(f"/dashboard/events/{event_app.config['test_event']['id']}")
    assert page.status_code == 200
    assert 'id="not-me-answers">2<' in page.get_data(as_text=True)


def test_answers_for_faces_never_offered_are_refused(event_app, faces_dir):
    client = event_app.test_client()
    event = event_app.config["test_event"]
    body = api_search(client, event, faces_dir)
    conn = get_database(event_app).connect()
    try:
        hidden = conn.scalar("SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id "
                             "WHERE p.filename = ?", (event_app.config["test_order"][-1],))
        other_event = make_event(event_app, event_app.config["test_owner"]["id"], "Other")
        add_files(event_app, other_event["id"], [faces_dir / OBAMA["obama1.jpg"]])
        index_all(event_app)
        foreign = conn.scalar("SELECT id FROM faces WHERE event_id = ?", (other_event["id"],))
    finally:
        conn.close()
    for face_id in (hidden, foreign, 10 ** 9, "x"):
        refused = answer(client, body, face_id, "me")
        assert refused.status_code == 400, refused.data
        assert "not shown to you" in refused.get_json()["message"]
    assert answer(client, body, body["photos"][0]["face_id"], "maybe").status_code == 400
    unknown = client.post("/api/search-sessions/nope/answers", json={"face_id": 1,
                                                                      "answer": "me"})
    assert unknown.status_code == 404
    assert client.get(f"/api/search-sessions/{body['session_id']}").get_json()["confirmed"] == 0


def test_the_page_asks_with_face_crops_and_searches_again(event_app, faces_dir):
    client = event_app.test_client()
    event = event_app.config["test_event"]
    page = client.post(f"/e/{event['code']}", data={"selfies": [file_upload(selfie(faces_dir))]},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="asked"' in html and html.count('class="face-card"') == 2
    action = re.search(r'action="(/e/[^"]+/answer)"', html).group(1)
    faces = re.findall(r'name="face_id" value="(\d+)"', html)
    assert "/p/" not in re.search(r'id="asked".*?</section>', html, re.S).group(0)  # crops only
    moved = client.post(action, data={"face_id": faces[-1], "answer": "me"})
    assert moved.status_code == 303
    again = client.get(moved.headers["Location"].split("#")[0])
    assert again.status_code == 200 and 'class="badge you-badge"' in again.get_data(as_text=True)
    # another device cannot use this session
    other = event_app.test_client()
    assert other.get(moved.headers["Location"].split("#")[0]).status_code == 404


def test_sessions_are_deleted_when_they_expire_or_the_face_data_goes(event_app, faces_dir):
    client = event_app.test_client()
    event = event_app.config["test_event"]
    body = api_search(client, event, faces_dir)
    conn = get_database(event_app).connect()
    try:
        def count():
            return conn.scalar("SELECT COUNT(*) FROM search_sessions")
        assert count() == 2  # the fixture's search and this one
        answer(client, body, body["candidates"][0]["face_id"], "me")
        conn.execute("UPDATE search_sessions SET expires_at = 0")
        from phopy.data import search_sessions as sessions_db
        assert sessions_db.delete_expired(conn) == 2 and count() == 0
        assert conn.scalar("SELECT COUNT(*) FROM search_answers") == 0
        assert client.get(f"/api/search-sessions/{body['session_id']}").status_code == 404
        body = api_search(client, event, faces_dir)
        answer(client, body, body["candidates"][0]["face_id"], "not_me")
        from phopy.data import retention as retention_db
        with conn.transaction():  # what the retention job does after the event
            retention_db.purge_faces(conn, event["id"])
        assert count() == 0
        assert conn.scalar("SELECT COUNT(*) FROM search_answers") == 0
        assert client.get(f"/api/search-sessions/{body['session_id']}").status_code == 404
    finally:
        conn.close()


def test_face_crops_are_deleted_with_the_face_data_and_with_the_event(event_app, faces_dir):
    from datetime import datetime, timedelta, timezone

    from phopy.services import events as events_service
    from phopy.services import retention
    from phopy.extensions import get_storage
    client = event_app.test_client()
    event, owner = event_app.config["test_event"], event_app.config["test_owner"]
    page = client.post(f"/e/{event['code']}", data={"selfies": [file_upload(selfie(faces_dir))]},
                       content_type="multipart/form-data").get_data(as_text=True)
    crop_urls = re.findall(r'<img src="(/e/[^"]*/f/[^"]+|/f/[^"]+)"', page)
    assert crop_urls
    crop = client.get(crop_urls[0])
    assert crop.status_code == 200 and crop.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(crop.data)).size[0] <= 200  # the face, small
    with event_app.app_context():
        storage = get_storage(event_app)
    assert list(storage.list(f"crops/{event['id']}"))
    conn = get_database(event_app).connect()
    try:
        conn.execute("UPDATE events SET closed_at = ? WHERE id = ?",
                     ((datetime.now(timezone.utc) - timedelta(days=30)).isoformat(), event["id"]))
        assert retention.purge_due(conn, 7, storage=storage) == [event["id"]]
        assert list(storage.list(f"crops/{event['id']}")) == []
        assert client.get(crop_urls[0]).status_code == 404
        conn.execute("UPDATE events SET closed_at = NULL, faces_purged_at = NULL WHERE id = ?",
                     (event["id"],))
        storage.save(f"crops/{event['id']}/1.jpg", crop.data)
        events_service.delete_event(conn, storage, event["id"], owner["id"])
        assert list(storage.list(f"crops/{event['id']}")) == []
    finally:
        conn.close()
