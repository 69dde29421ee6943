"""Bib reading on the face pool's processes (real OCR, real worker processes), and a
fault of the machine during reading that blames no photo."""
import time

from phopy.bibs import reading
from phopy.data import tasks as tasks_db
from phopy.extensions import get_storage
from phopy.faces import FacePool
from tests.bibs.conftest import conn_of, mark_running
from tests.bibs.test_reading import readings
from tests.conftest import SharedPool, add_files, db_rows, index_all, make_event, use_engine


def test_worker_processes_read_what_one_process_reads(face_app, owner, race, race_photos,
                                                     engine):
    """The same photos read by two spawned pool processes (one OCR thread each) give the
    readings the in-process pool gave, each under the same face."""
    pool = FacePool(engine.settings, processes=2)
    try:
        use_engine(face_app, engine, SharedPool(pool))
        event = make_event(face_app, owner["id"], "Two Workers Run")
        mark_running(face_app, event["id"])
        add_files(face_app, event["id"], list(race_photos.values()))
        index_all(face_app)
    finally:
        pool.close()

    def summary(event_id):
        return sorted((r["filename"], r["bib"], r["face_id"] is not None,
                       round(r["box_left"] / 8)) for r in readings(face_app, event_id))
    assert summary(event["id"]) == summary(race["event"]["id"])
    assert len(summary(event["id"])) == 3
    tasks = db_rows(face_app, "SELECT status FROM tasks WHERE event_id = ? AND "
                              "kind = 'read_bibs'", (event["id"],))
    assert {t["status"] for t in tasks} == {"completed"}
    assert db_rows(face_app, "SELECT COUNT(*) AS n FROM bib_scans WHERE event_id = ? AND "
                             "status = 'read'", (event["id"],))[0]["n"] == 4


def _reading_task(app, event_id):
    rows = db_rows(app, "SELECT id FROM tasks WHERE event_id = ? AND kind = 'read_bibs' "
                        "ORDER BY created_at DESC", (event_id,))
    conn = conn_of(app)
    try:
        return tasks_db.get(conn, rows[0]["id"])
    finally:
        conn.close()


def test_a_photo_missing_from_storage_while_reading_retries_and_blames_no_photo(
        face_app, owner, race_photos):
    app = face_app
    app.config.update(JOB_RETRY_BASE_SECONDS=0.01, JOB_RETRY_MAX_SECONDS=0.01)
    event = make_event(app, owner["id"], "Lost Storage Run")
    add_files(app, event["id"], [race_photos["a_obama_4271.jpg"],
                                 race_photos["b_biden_A318.jpg"]])
    index_all(app)  # not a running event yet: faces only
    photos = {r["filename"]: r for r in db_rows(
        app, "SELECT id, filename, storage_key FROM photos WHERE event_id = ?",
        (event["id"],))}
    storage = get_storage(app)
    gone = photos["b_biden_A318.jpg"]
    kept = storage.read(gone["storage_key"])
    storage.delete(gone["storage_key"])  # e.g. written to another machine's own folder

    mark_running(app, event["id"])
    conn = conn_of(app)
    try:
        reading.enqueue_reading(conn, event["id"])
    finally:
        conn.close()
    index_all(app)

    task = _reading_task(app, event["id"])
    assert task["status"] == "pending"  # back in the queue, not completed
    assert f"The photo {gone['storage_key']} is not in storage" in task["error"]
    scans = {r["photo_id"]: (r["status"], r["error"]) for r in db_rows(
        app, "SELECT photo_id, status, error FROM bib_scans")}
    assert gone["id"] not in scans  # not checked off as "error": read again later

    storage.save(gone["storage_key"], kept)  # storage fixed: the retry reads it
    deadline = time.monotonic() + 30
    while _reading_task(app, event["id"])["status"] != "completed":
        assert time.monotonic() < deadline, _reading_task(app, event["id"])
        index_all(app)
        time.sleep(0.05)
    assert {(r["filename"], r["bib"]) for r in readings(app, event["id"])} == {
        ("a_obama_4271.jpg", "4271"), ("b_biden_A318.jpg", "A318")}
