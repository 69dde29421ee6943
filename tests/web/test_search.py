"""Selfie search end to end: real photos, real models (both engines), real SQLite."""
import io
import zipfile

import pytest
from PIL import Image

from phopy.faces import FaceEngine, FacePool
from tests.conftest import (ENGINE_NAMES, SharedPool, add_files, file_upload, index_all, login,
                            make_engine_settings, make_event, make_photographer)


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def engine(request):
    """Every search test runs with each engine (real models)."""
    return FaceEngine(make_engine_settings(request.param))


@pytest.fixture(scope="module")
def shared_pool(engine):
    pool = FacePool(engine.settings, processes=1)
    yield SharedPool(pool)
    pool.close()

GROUP = ["fr_two_people.jpg", "fr_obama_and_biden.jpg", "fr_kit_with_rose.jpg",
         "dlib_2008_001322.jpg"]
LFW = ["Padraig_Harrington/Padraig_Harrington_0001.jpg"]


@pytest.fixture
def indexed_event(face_app, faces_dir):
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"], "Press Day")
    paths = [faces_dir / "group_photos" / n for n in GROUP] + \
            [faces_dir / "lfw_4plus" / n for n in LFW]
    add_files(face_app, event["id"], paths)
    assert index_all(face_app) == 1
    return event


def search(client, event, *paths):
    data = {"selfies": [file_upload(p) for p in paths]}
    return client.post(f"/api/events/{event['id']}/search", data=data,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("selfie", ["obama.jpg", "biden.jpg"])
def test_selfie_finds_exactly_their_group_photos(face_app, faces_dir, indexed_event, selfie):
    client = face_app.test_client()
    response = search(client, indexed_event, faces_dir / "face_recognition_examples" / selfie)
    assert response.status_code == 200, response.data
    body = response.get_json()
    names = [p["filename"] for p in body["photos"]]
    assert set(names) == {"fr_two_people.jpg", "fr_obama_and_biden.jpg"}
    assert len(names) == len(set(names))  # a photo appears once
    assert [p["distance"] for p in body["photos"]] == sorted(p["distance"] for p in body["photos"])
    assert body["faces_in_selfies"] == [1]
    assert body["indexing_complete"] is True and body["indexed_photos"] == 5
    thumb = client.get(body["photos"][0]["thumbnail_url"])
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.data)).format == "JPEG"
    original = client.get(body["photos"][0]["download_url"])
    assert original.status_code == 200 and "attachment" in original.headers["Content-Disposition"]


def test_no_face_selfie_gets_a_clear_message(face_app, faces_dir, indexed_event):
    client = face_app.test_client()
    response = search(client, indexed_event, faces_dir / "no_faces" / "dlib_dog.jpg")
    assert response.status_code == 422
    assert response.get_json()["error"] == "no_face"
    page = client.post(f"/e/{indexed_event['code']}", data={
        "selfies": [file_upload(faces_dir / "no_faces" / "dlib_dog.jpg")]},
        content_type="multipart/form-data")
    assert page.status_code == 422 and b"could not find a face" in page.data


def test_group_selfie_uses_largest_face_and_says_so(face_app, faces_dir, indexed_event):
    client = face_app.test_client()
    response = search(client, indexed_event, faces_dir / "group_photos" / "fr_two_people.jpg")
    body = response.get_json()
    assert body["faces_in_selfies"] == [2]
    assert any(n["code"] == "several_faces" for n in body["notices"])


def test_html_search_results_page_and_zip(face_app, faces_dir, indexed_event):
    client = face_app.test_client()
    page = client.post(f"/e/{indexed_event['code']}", data={
        "selfies": [file_upload(faces_dir / "face_recognition_examples" / "obama.jpg")]},
        content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.data.decode()
    assert "We found you in 2 photos" in html
    zip_url = html.split('id="zip-link" href="')[1].split('"')[0].replace("&amp;", "&")
    archive = client.get(zip_url)
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert sorted(names) == ["fr_obama_and_biden.jpg", "fr_two_people.jpg"]


def test_three_selfies_never_lose_a_confident_match(face_app, faces_dir, indexed_event):
    client = face_app.test_client()
    one = search(client, indexed_event, faces_dir / "face_recognition_examples" / "obama.jpg")
    three = search(client, indexed_event, faces_dir / "face_recognition_examples" / "obama.jpg",
                   faces_dir / "face_recognition_examples" / "obama2.jpg",
                   faces_dir / "face_recognition_tests" / "obama3.jpg")
    ids_one = {p["photo_id"] for p in one.get_json()["photos"]}
    ids_three = {p["photo_id"] for p in three.get_json()["photos"]}
    assert ids_one <= ids_three
    assert three.get_json()["faces_in_selfies"] == [1, 1, 1]


def test_too_many_selfies_and_unknown_event(face_app, faces_dir, indexed_event):
    client = face_app.test_client()
    obama = faces_dir / "face_recognition_examples" / "obama.jpg"
    four = search(client, indexed_event, obama, obama, obama, obama)
    assert four.status_code == 400 and "1 to 3" in four.get_json()["message"]
    unknown = client.post("/api/events/nope/search", data={"selfies": [file_upload(obama)]},
                          content_type="multipart/form-data")
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"


def test_search_while_indexing_searches_what_is_indexed(face_app, faces_dir):
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"], "Half done")
    add_files(face_app, event["id"], [faces_dir / "group_photos" / "fr_two_people.jpg"])
    index_all(face_app)
    add_files(face_app, event["id"], [faces_dir / "group_photos" / "fr_obama_and_biden.jpg"])
    body = search(face_app.test_client(), event,
                  faces_dir / "face_recognition_examples" / "obama.jpg").get_json()
    assert body["indexing_complete"] is False
    assert body["indexed_photos"] == 1 and body["total_photos"] == 2
    assert [p["filename"] for p in body["photos"]] == ["fr_two_people.jpg"]
    assert any(n["code"] == "still_indexing" for n in body["notices"])


def test_cli_import_folder_wait_and_search(face_app, faces_dir, tmp_path):
    import json
    import shutil
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"], "Folder event")
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("fr_two_people.jpg", "fr_kit_with_rose.jpg"):
        shutil.copy(faces_dir / "group_photos" / name, folder / name)
    runner = face_app.test_cli_runner()
    result = runner.invoke(args=["import-folder", event["id"], str(folder), "--wait"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["added"] == 2 and summary["task"]["status"] == "completed"
    assert summary["index"]["faces"] == 4
    again = json.loads(runner.invoke(args=["import-folder", event["id"], str(folder)]).output)
    assert again["added"] == 0 and again["duplicates"] == 2
    result = runner.invoke(args=["search", event["id"],
                                 str(faces_dir / "knn_examples_dummy")])
    assert result.exit_code != 0
    result = runner.invoke(args=["search", event["id"], str(
        faces_dir / "face_recognition_examples" / "knn_examples" / "train" / "rose_leslie" /
        sorted((faces_dir / "face_recognition_examples/knn_examples/train/rose_leslie").iterdir())[0].name)])
    assert result.exit_code == 0, result.output
    assert [p["filename"] for p in json.loads(result.output)["photos"]] == ["fr_kit_with_rose.jpg"]


def test_switching_engines_asks_for_a_reindex_and_never_mixes(face_app, faces_dir, engine,
                                                             indexed_event):
    other_name = next(name for name in ENGINE_NAMES if name != engine.settings.engine)
    other = FaceEngine(make_engine_settings(other_name))
    client = face_app.test_client()
    obama = faces_dir / "face_recognition_examples" / "obama.jpg"
    # the deployment switches FACE_ENGINE: this process now runs the other engine
    face_app.extensions["phopy_engine"] = other
    face_app.extensions["phopy_engine_settings"] = other.settings
    pool = FacePool(other.settings, processes=1)
    face_app.extensions["phopy_test_pool"] = SharedPool(pool)
    try:
        response = search(client, indexed_event, obama)
        assert response.status_code == 409, response.data
        body = response.get_json()
        assert body["error"] == "needs_reindex" and "re-index" in body["message"]
        assert "photos" not in body
        page = client.post(f"/e/{indexed_event['code']}", data={"selfies": [file_upload(obama)]},
                           content_type="multipart/form-data")
        assert page.status_code == 409 and b"different face engine" in page.data
        login(client)
        dashboard = client.get(f"/dashboard/events/{indexed_event['id']}").data.decode()
        assert 'id="engine-reindex"' in dashboard and "Re-index with the new engine" in dashboard
        note = dashboard.split('id="engine-note"')[1].split("</p>")[0]
        assert ("vendor SDK" in note) == (other_name == "mobilefacenet")
        assert "Re-index with the new engine" in client.get("/dashboard/").data.decode()
        assert client.post(f"/dashboard/events/{indexed_event['id']}/reindex").status_code == 302
        assert index_all(face_app) == 1
        assert 'id="engine-reindex"' not in client.get(
            f"/dashboard/events/{indexed_event['id']}").data.decode()
        after = search(client, indexed_event, obama)
        assert after.status_code == 200, after.data
        names = {p["filename"] for p in after.get_json()["photos"]}
        assert names == {"fr_two_people.jpg", "fr_obama_and_biden.jpg"}
    finally:
        pool.close()
