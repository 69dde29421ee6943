"""The task queue: atomic claims, several events, no-face photos not redone, cache versions."""
import threading

from phopy import create_app
from phopy.data import get_database
from phopy.data import tasks as tasks_db
from phopy.services import indexing
from tests.conftest import (add_files, db_rows, file_upload, index_all, make_event,
                            make_photographer, make_test_config)


def test_only_one_of_many_racing_runners_claims_a_task(app):
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    conn = get_database(app).connect()
    indexing.enqueue_indexing(conn, event["id"])
    winners, barrier = [], threading.Barrier(6)

    def race(n):
        c = get_database(app).connect()
        barrier.wait()
        task = tasks_db.claim(c, f"runner-{n}", lambda t: False)
        if task:
            winners.append(task["claimed_by"])
        c.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert conn.one("SELECT claimed_by, status, attempts FROM tasks") == {
        "claimed_by": winners[0], "status": "running", "attempts": 1}
    conn.close()


def test_second_task_of_a_running_event_waits_but_other_events_go(app):
    owner = make_photographer(app)
    first, second = make_event(app, owner["id"], "First"), make_event(app, owner["id"], "Second")
    conn = get_database(app).connect()
    indexing.enqueue_indexing(conn, first["id"])
    assert tasks_db.claim(conn, "a", lambda t: False)["event_id"] == first["id"]
    again = indexing.enqueue_indexing(conn, first["id"])  # photos added mid-run
    assert again["status"] == "pending"
    assert indexing.enqueue_indexing(conn, first["id"])["id"] == again["id"]  # reused
    indexing.enqueue_indexing(conn, second["id"])
    claimed = tasks_db.claim(conn, "b", lambda t: False)
    assert claimed["event_id"] == second["id"]  # not the first event's second task
    assert tasks_db.claim(conn, "c", lambda t: False) is None
    conn.close()


def test_no_face_photo_is_scanned_once_and_not_redone(face_app, faces_dir):
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"], "Animals")
    add_files(face_app, event["id"], [faces_dir / "no_faces" / "dlib_dog.jpg",
                                      faces_dir / "no_faces" / "dlib_eagle.jpg"])
    index_all(face_app)
    before = db_rows(face_app, "SELECT photo_id, status, processed_at FROM photo_checkpoints")
    assert [r["status"] for r in before] == ["no_faces", "no_faces"]
    conn = get_database(face_app).connect()
    indexing.enqueue_indexing(conn, event["id"])
    conn.close()
    index_all(face_app)
    assert db_rows(face_app, "SELECT photo_id, status, processed_at FROM photo_checkpoints") == before
    last = db_rows(face_app, "SELECT * FROM tasks ORDER BY created_at DESC, enqueued_at DESC")[0]
    assert last["status"] == "completed" and last["faces_found"] == 0


def test_search_cache_follows_faces_changed_by_another_process(face_app, faces_dir, tmp_path,
                                                               engine, shared_pool):
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"], "Two processes")
    add_files(face_app, event["id"], [faces_dir / "group_photos" / "fr_two_people.jpg"])
    index_all(face_app)
    selfie = faces_dir / "face_recognition_examples" / "biden.jpg"

    def search(app):
        return [p["filename"] for p in app.test_client().post(
            f"/api/events/{event['id']}/search", data={"selfies": [file_upload(selfie)]},
            content_type="multipart/form-data").get_json()["photos"]]

    assert search(face_app) == ["fr_two_people.jpg"]
    # A second app on the same database and files stands in for another web process.
    other = create_app(make_test_config(tmp_path))
    other.extensions["phopy_engine"] = engine
    other.extensions["phopy_test_pool"] = shared_pool
    add_files(other, event["id"], [faces_dir / "group_photos" / "fr_obama_and_biden.jpg"])
    index_all(other)
    assert sorted(search(face_app)) == ["fr_obama_and_biden.jpg", "fr_two_people.jpg"]
    # Deleting a photo in the other process drops it from this one's results too.
    photo_id = db_rows(other, "SELECT id FROM photos WHERE filename = 'fr_two_people.jpg'")[0]["id"]
    from phopy.extensions import get_storage
    from phopy.services import photos
    conn = get_database(other).connect()
    photos.delete_photo(conn, get_storage(other), event["id"], photo_id)
    conn.close()
    assert search(face_app) == ["fr_obama_and_biden.jpg"]
