"""Two machines (issue 20): a web app and a real Celery worker with data folders of their
own, sharing PostgreSQL, Redis and a SeaweedFS bucket.

Photos uploaded on the web are indexed by the worker, which reads them from the
bucket, and a selfie on the web finds them; deleting the event on the web
leaves no object in the bucket. A Drive import the worker writes is served by
the web (the owner's thumbnail and original, a search result's /p/<token>/thumb). With the file backend and separate folders the
worker refuses to start. PostgreSQL pass only: the two share a real database.
"""
import shutil
from pathlib import Path

import pytest

from phopy.data import get_database
from phopy.extensions import get_storage
from phopy.google import accounts as google_accounts, sync as drive
from phopy.jobs.checks import check_start
from tests.conftest import ENGINE_NAMES, db_rows, file_upload, login, make_event, \
    make_engine_settings, make_photographer, model_dir, needs_postgresql
from tests.fakes.google_fixture import FakeGoogle
from tests.google.conftest import grant_drive
from tests.jobs import test_celery
from tests.jobs.test_celery import Celery, one
from tests.storage.conftest import s3_settings

redis_url = test_celery.redis_url  # the fixture
pytestmark = [pytest.mark.slow, needs_postgresql]
TOPS = ("originals", "thumbnails", "qr", "banners", "renditions", "crops")


class TwoMachines(Celery):
    """The web app in this process (data folder ``web``), its worker a subprocess on
    another data folder (``worker``): nothing on disk is shared."""

    def __init__(self, tmp_path, redis_url, **settings):
        super().__init__(tmp_path, redis_url, DATA_DIR=str(tmp_path / "web"), **settings)
        self.worker_dir = tmp_path / "worker"

    def env(self):
        return dict(super().env(), PHOPY_DATA_DIR=str(self.worker_dir))


@pytest.fixture
def machines(tmp_path, redis_url):  # noqa: F811
    made = []

    def make(**settings):
        engine = ENGINE_NAMES[0]
        make_engine_settings(engine)  # its weights are fetched before the worker needs them
        env = TwoMachines(tmp_path, redis_url, FACE_ENGINE=engine, FACE_MODEL_DIR=model_dir(),
                          **settings)
        made.append(env)
        return env

    yield make
    for env in made:
        env.stop()


def files_under(folder, tops=TOPS):
    folder = Path(folder)
    return [p for top in tops for p in (folder / top).rglob("*") if p.is_file()]


def test_the_web_uploads_the_worker_indexes_the_web_finds_and_deletes_on_s3(machines,
                                                                            faces_dir):
    env = machines(**s3_settings())
    web = env.app
    check_start(web, "web")
    owner = make_photographer(web)
    event = make_event(web, owner["id"], "Two machines")
    env.start_worker()
    client = web.test_client()
    login(client)
    group = faces_dir / "group_photos/fr_two_people.jpg"
    other = faces_dir / "group_photos/fr_kit_with_rose.jpg"
    answer = client.post(f"/dashboard/events/{event['id']}/photos",
                         data={"photos": [file_upload(group), file_upload(other)]},
                         content_type="multipart/form-data",
                         headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.data
    task_id = answer.get_json()["task_id"]
    assert task_id

    task = env.wait_for(
        lambda: one(web, "SELECT * FROM tasks WHERE id = ? AND status IN "
                         "('completed', 'failed')", (task_id,)),
        240, "the worker to index the event")
    assert task["status"] == "completed", (task["error"], env.log())
    assert task["claimed_by"].split(":")[1] == str(env.workers[0].pid)  # the other machine
    checkpoints = db_rows(web, "SELECT status, error FROM photo_checkpoints")
    assert sorted(c["status"] for c in checkpoints) == ["indexed", "indexed"], checkpoints

    found = client.post(f"/api/events/{event['id']}/search",
                        data={"selfies": [file_upload(faces_dir /
                                                      "face_recognition_examples/obama.jpg")]},
                        content_type="multipart/form-data")
    assert found.status_code == 200, found.data
    body = found.get_json()
    assert [p["filename"] for p in body["photos"]] == ["fr_two_people.jpg"]
    assert body["indexing_complete"] is True
    photo = client.get(body["photos"][0]["download_url"])
    assert photo.status_code == 200 and photo.data == group.read_bytes()

    storage = get_storage(web)
    assert len(list(storage.list(f"originals/{event['id']}"))) == 2
    # nothing of the event's on either machine's disk: the bucket holds it all
    assert files_under(web.config["DATA_DIR"]) == []
    assert files_under(env.worker_dir) == []

    deleted = client.post(f"/dashboard/events/{event['id']}/delete")
    assert deleted.status_code in (302, 303)
    assert {top: list(storage.list(top)) for top in TOPS} == {top: [] for top in TOPS}


def settled(app):
    """Every task once the Drive sync and the indexing it queued have ended, else None."""
    tasks = db_rows(app, "SELECT kind, status, claimed_by, error FROM tasks")
    kinds = {t["kind"] for t in tasks}
    ended = all(t["status"] in ("completed", "failed") for t in tasks)
    return tasks if ended and ("index" in kinds or any(t["status"] == "failed" for t in tasks)) \
        else None


def test_a_drive_import_written_by_the_worker_is_served_by_the_web(machines, tmp_path,
                                                                   faces_dir):
    folder = tmp_path / "Press Day"
    folder.mkdir()
    group = faces_dir / "group_photos/fr_two_people.jpg"
    shutil.copy(group, folder / group.name)
    google = FakeGoogle(folders=[folder])
    try:
        env = machines(**s3_settings(), **google.config())
        web = env.app
        check_start(web, "web")
        owner = make_photographer(web)
        grant_drive(web, google, owner["id"])
        event = make_event(web, owner["id"], "Press Day")
        env.start_worker()
        conn = get_database(web).connect()
        try:
            client_ = google_accounts.drive_client(conn, web.config, owner["id"])
            drive.link_folder(conn, web.config, client_, event["id"], owner["id"],
                              google.folder_id(folder))
        finally:
            conn.close()
        tasks = env.wait_for(lambda: settled(web), 240,
                             "the worker to import and index the Drive photo")
        assert tasks and all(t["status"] == "completed" for t in tasks), (tasks, env.log())
        assert all(t["claimed_by"].split(":")[1] == str(env.workers[0].pid) for t in tasks)
    finally:
        google.stop()
    photo = one(web, "SELECT id FROM photos WHERE event_id = ?", (event["id"],))
    assert files_under(web.config["DATA_DIR"]) == []  # the worker wrote only to the bucket

    client = web.test_client()
    login(client)
    base = f"/dashboard/events/{event['id']}/photos/{photo['id']}"
    thumb = client.get(f"{base}/thumb")
    assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
    original = client.get(f"{base}/original")
    assert original.status_code == 200 and original.data == group.read_bytes()
    found = client.post(f"/api/events/{event['id']}/search",
                        data={"selfies": [file_upload(faces_dir /
                                                      "face_recognition_examples/obama.jpg")]},
                        content_type="multipart/form-data")
    assert found.status_code == 200, found.data
    [hit] = found.get_json()["photos"]
    shared = client.get(hit["thumbnail_url"])
    assert "/p/" in hit["thumbnail_url"] and shared.status_code == 200
    assert shared.data[:2] == b"\xff\xd8"
    assert files_under(web.config["DATA_DIR"]) == [] and files_under(env.worker_dir) == []


def test_with_the_file_backend_a_worker_on_another_folder_refuses_to_start(machines):
    env = machines(STORAGE_BACKEND="file")
    check_start(env.app, "web")  # the web machine records its folder's id
    worker = env.start_worker()
    try:
        code = worker.wait(180)
    except Exception:
        pytest.fail(f"the worker did not stop\n{env.log()}")
    assert code != 0
    log = env.log()
    assert "is not the one this database uses" in log, log
    assert "STORAGE_BACKEND=s3" in log
