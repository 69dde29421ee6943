"""A fault of the machine is never recorded as a fault of the photo (issue 20).

Real app, real database, real storage, real face engine: a photo missing from
storage makes the index task retry with a message that says what to fix, an
engine without its model files fails the task naming the file, and only a photo
that truly cannot be decoded gets its checkpoint error.
"""
import time

from phopy.data import get_database
from phopy.data import tasks as tasks_db
from phopy.extensions import get_storage
from phopy.storage import make_storage
from tests.conftest import add_files, create_app, db_rows, index_all, make_event, \
    make_photographer, make_test_config, use_engine
from tests.storage.conftest import s3_settings


def photo_rows(app, event_id):
    return db_rows(app, "SELECT p.id, p.filename, p.storage_key, c.status, c.error "
                        "FROM photos p LEFT JOIN photo_checkpoints c ON c.photo_id = p.id "
                        "WHERE p.event_id = ? ORDER BY p.filename", (event_id,))


def index_task(app, event_id):
    rows = db_rows(app, "SELECT id FROM tasks WHERE event_id = ? AND kind = 'index' "
                        "ORDER BY created_at DESC", (event_id,))
    conn = get_database(app).connect()
    try:
        return tasks_db.get(conn, rows[0]["id"])
    finally:
        conn.close()


def run_until(app, event_id, status, timeout=30):
    """Run the queue (as a runner's loop would) until the event's index task is ``status``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        index_all(app)
        task = index_task(app, event_id)
        if task["status"] == status:
            return task
        time.sleep(0.05)
    return task


def test_a_photo_missing_from_storage_retries_the_task_and_blames_no_photo(face_app,
                                                                           faces_dir,
                                                                           tmp_path):
    app = face_app
    app.config.update(JOB_RETRY_BASE_SECONDS=0.01, JOB_RETRY_MAX_SECONDS=0.01)
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    obama = faces_dir / "face_recognition_examples/obama.jpg"
    group = faces_dir / "group_photos/fr_two_people.jpg"
    damaged = tmp_path / "zz_damaged.jpg"
    damaged.write_bytes(group.read_bytes()[:4000])
    add_files(app, event["id"], [obama, group, damaged])
    storage = get_storage(app)
    gone = next(row for row in photo_rows(app, event["id"]) if row["filename"] == "obama.jpg")
    kept = storage.read(gone["storage_key"])
    storage.delete(gone["storage_key"])  # e.g. saved on another machine's own folder

    index_all(app)

    task = index_task(app, event["id"])
    assert task["status"] == "pending"  # back in the queue, not completed
    assert f"The photo {gone['storage_key']} is not in storage" in task["error"]
    assert "every machine must share the same storage (STORAGE_BACKEND=s3" in task["error"]
    statuses = {row["filename"]: (row["status"], row["error"]) for row in
                photo_rows(app, event["id"])}
    assert statuses["obama.jpg"] == (None, None)  # no checkpoint: retried later

    storage.save(gone["storage_key"], kept)  # the storage is fixed; the retry succeeds
    task = run_until(app, event["id"], "completed")
    assert task["status"] == "completed" and task["error"] is None
    statuses = {row["filename"]: (row["status"], row["error"]) for row in
                photo_rows(app, event["id"])}
    assert statuses["obama.jpg"] == ("indexed", None)
    assert statuses["fr_two_people.jpg"] == ("indexed", None)
    status, error = statuses["zz_damaged.jpg"]  # the photo's own fault keeps its error
    assert status == "error" and error in ("The image is damaged or truncated.",
                                           "The file could not be read as an image.")


def test_storage_that_refuses_us_retries_then_fails_the_task(tmp_path, engine, shared_pool,
                                                             faces_dir):
    settings = s3_settings()
    app = use_engine(create_app(make_test_config(tmp_path, **settings)), engine, shared_pool)
    app.config.update(JOB_RETRY_BASE_SECONDS=0.01, JOB_RETRY_MAX_SECONDS=0.01)
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    add_files(app, event["id"], [faces_dir / "face_recognition_examples/obama.jpg"])
    # this machine's S3 secret is wrong (the server is real and refuses it)
    app.extensions["phopy_storage"] = make_storage({**settings, "S3_SECRET_KEY": "wrong"})
    task = run_until(app, event["id"], "failed")
    assert task["status"] == "failed" and task["attempts"] == task["max_attempts"]
    assert "refused the credentials" in task["error"] and "S3_SECRET_KEY" in task["error"]
    assert [row["status"] for row in photo_rows(app, event["id"])] == [None]


def test_an_engine_without_its_model_files_fails_the_task_naming_the_file(tmp_path,
                                                                          faces_dir):
    empty = tmp_path / "no-models"
    empty.mkdir()
    app = create_app(make_test_config(tmp_path, FACE_ENGINE="mobilefacenet",
                                      FACE_DETECTOR="yunet", FACE_MODEL_DIR=str(empty)))
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    add_files(app, event["id"], [faces_dir / "face_recognition_examples/obama.jpg"])

    index_all(app)  # the real FacePool of the app's settings

    task = index_task(app, event["id"])
    assert task["status"] == "failed"
    assert "face_detection_yunet" in task["error"] and str(empty) in task["error"]
    assert "python -m phopy.faces.models --all" in task["error"]
    assert [row["status"] for row in photo_rows(app, event["id"])] == [None]
