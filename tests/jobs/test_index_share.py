"""Several workers on one event (issue 20): photo claims with a lease, helper tasks.

Claims run on the real database of the pass (SQLite's write lock, PostgreSQL's
``FOR UPDATE SKIP LOCKED``); two runners in threads and two real Celery workers
(subprocesses on Redis, PostgreSQL pass) index one event together.
"""
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from phopy import create_app
from phopy.data import get_database
from phopy.data import photos as photos_db
from phopy.data.runners import database_now
from phopy.services import index_share
from tests.conftest import (_test_runner, add_files, db_rows, make_event, make_photographer,
                            make_test_config, needs_postgresql)
from tests.jobs import test_celery
from tests.jobs.test_celery import one

redis_url = test_celery.redis_url  # the fixture
celery_env = test_celery.celery_env  # the fixture


def photo_ids(app, event_id):
    return sorted(r["id"] for r in db_rows(app, "SELECT id FROM photos WHERE event_id = ?",
                                           (event_id,)))


@pytest.fixture
def event_of_photos(app, faces_dir):
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Claims")
    add_files(app, event["id"], sorted((faces_dir / "group_photos").glob("*.jpg")),
              queue=False)
    return event


def test_claimers_at_once_never_get_the_same_photo(app, event_of_photos):
    event_id = event_of_photos["id"]
    everyone = photo_ids(app, event_id)
    start = threading.Barrier(4)

    def claimer(n):
        conn = get_database(app).connect()
        got = []
        try:
            start.wait()
            while True:
                batch = photos_db.claim_unscanned(conn, event_id, f"holder-{n}",
                                                  database_now(conn), 60, 2)
                if not batch:
                    return got
                got += [p["id"] for p in batch]
                for photo in batch:  # scanned: a holder gets its own claims back until then
                    photos_db.record_scan(conn, photo, f"holder-{n}", "no_faces", [])
        finally:
            conn.close()

    with ThreadPoolExecutor(4) as pool:
        claimed = list(pool.map(claimer, range(4)))
    flat = [i for got in claimed for i in got]
    assert sorted(flat) == everyone  # each photo once: none twice, none missed
    holders = {r["id"]: r["claimed_by"] for r in db_rows(
        app, "SELECT id, claimed_by FROM photos WHERE event_id = ?", (event_id,))}
    assert all(holders[i] == f"holder-{n}" for n, got in enumerate(claimed) for i in got)


def test_an_expired_lease_is_claimed_again_and_a_holder_takes_its_own_back(
        app, event_of_photos):
    event_id = event_of_photos["id"]
    conn = get_database(app).connect()
    try:
        now = database_now(conn)
        first = photos_db.claim_unscanned(conn, event_id, "dead-worker", now, 30, 5)
        assert len(first) == 5
        taken = {p["id"] for p in first}
        # while the lease lasts nobody else gets them
        others = photos_db.claim_unscanned(conn, event_id, "other", now + 29, 30, 100)
        assert taken.isdisjoint(p["id"] for p in others)
        assert photos_db.count_unclaimed(conn, event_id, now + 29, 30) == 0
        # a resumed task (the same holder) takes its own again at once
        again = photos_db.claim_unscanned(conn, event_id, "dead-worker", now, 30, 100)
        assert {p["id"] for p in again} == taken
        # the dead worker's lease runs out: they are claimable again, the live ones not
        assert photos_db.count_unclaimed(conn, event_id, now + 31, 30) == 5
        late = photos_db.claim_unscanned(conn, event_id, "late", now + 31, 30, 100)
        assert {p["id"] for p in late} == taken
        # a renewed lease holds; a released claim is free at once
        photos_db.renew_claims(conn, "late", event_id, now + 100)
        rest = photos_db.claim_unscanned(conn, event_id, "x", now + 120, 30, 100)
        assert len(rest) == len(others) and taken.isdisjoint(p["id"] for p in rest)
        photos_db.release_claims(conn, "late", event_id)
        freed = photos_db.claim_unscanned(conn, event_id, "y", now + 120, 30, 100)
        assert {p["id"] for p in freed} == taken
    finally:
        conn.close()


def test_a_scanned_photo_is_never_claimed_and_reindexing_frees_the_claims(app, event_of_photos):
    event_id = event_of_photos["id"]
    conn = get_database(app).connect()
    try:
        now = database_now(conn)
        [photo] = photos_db.claim_unscanned(conn, event_id, "a", now, 30, 1)
        photos_db.record_scan(conn, photo, "a", "no_faces", [])
        photos_db.release_claims(conn, "a", event_id)
        assert photo["id"] not in {p["id"] for p in photos_db.claim_unscanned(
            conn, event_id, "b", now, 30, 100)}
        photos_db.reset_scans(conn, event_id)  # a re-index must not wait for old leases
        assert len(photos_db.claim_unscanned(conn, event_id, "c", now, 30, 100)) == \
            len(photo_ids(app, event_id))
    finally:
        conn.close()


def assert_indexed_once(app, event_id):
    """Every photo has one checkpoint and exactly the faces it counts."""
    checkpoints = db_rows(app, "SELECT photo_id, task_id, faces_count FROM photo_checkpoints "
                               "WHERE event_id = ?", (event_id,))
    assert sorted(c["photo_id"] for c in checkpoints) == photo_ids(app, event_id)
    faces = {r["photo_id"]: r["n"] for r in db_rows(
        app, "SELECT photo_id, COUNT(*) AS n FROM faces WHERE event_id = ? GROUP BY photo_id",
        (event_id,))}
    assert {c["photo_id"]: c["faces_count"] for c in checkpoints if c["faces_count"]} == faces
    assert sum(faces.values()) > 0
    return checkpoints


def test_two_runners_share_one_event_and_the_follow_ups_run_once(tmp_path, faces_dir,
                                                                 monkeypatch):
    calls = []
    from phopy.services import indexing
    monkeypatch.setitem(indexing._AFTER_INDEXING, "test.note",
                        lambda conn, config, event_id: calls.append(event_id))
    app = create_app(make_test_config(tmp_path, INDEX_HELPERS=1, INDEX_BATCH_SIZE=8))
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Two runners")
    photos = sorted((faces_dir / "group_photos").glob("*.jpg"))
    add_files(app, event["id"], photos)  # queues the index task
    parent = one(app, "SELECT * FROM tasks WHERE kind = 'index'")
    first, second = _test_runner(app), _test_runner(app)
    helping = []

    def help_out():
        while not one(app, "SELECT id FROM tasks WHERE id = ? AND status IN "
                           "('completed', 'failed')", (parent["id"],)):
            helping.append(second.run_until_idle(["index_part"]))
            time.sleep(0.1)

    helper_thread = threading.Thread(target=help_out)
    helper_thread.start()
    try:
        assert first.run_until_idle(["index"]) == 1
    finally:
        helper_thread.join(120)
    second.run_until_idle(["index_part"])  # a helper queued late ends at once

    done = one(app, "SELECT * FROM tasks WHERE id = ?", (parent["id"],))
    assert done["status"] == "completed", done["error"]
    assert done["progress"] == done["total"] == len(photos)
    checkpoints = assert_indexed_once(app, event["id"])
    helpers = db_rows(app, "SELECT * FROM tasks WHERE parent_id = ?", (parent["id"],))
    assert len(helpers) == 1 and helpers[0]["kind"] == "index_part"
    assert helpers[0]["status"] == "completed" and helpers[0]["event_id"] == event["id"]
    by_task = {t: sum(1 for c in checkpoints if c["task_id"] == t)
               for t in (parent["id"], helpers[0]["id"])}
    assert all(by_task.values()), by_task  # both runners scanned photos
    assert json.loads(helpers[0]["result"])["photos"] == by_task[helpers[0]["id"]]
    result = json.loads(done["result"])
    faces = one(app, "SELECT COUNT(*) AS n FROM faces WHERE event_id = ?", (event["id"],))["n"]
    assert result == {"photos": len(photos), "faces": faces}
    assert done["faces_found"] == faces
    assert calls == [event["id"]]  # the follow-ups ran once, for the whole event
    assert not db_rows(app, "SELECT id FROM photos WHERE claimed_by IS NOT NULL AND id NOT IN "
                            "(SELECT photo_id FROM photo_checkpoints)")


def test_with_one_runner_and_no_helpers_nothing_else_is_queued(app, event_of_photos):
    from tests.conftest import run_jobs
    from phopy.services import indexing
    conn = get_database(app).connect()
    try:
        task = indexing.enqueue_indexing(conn, event_of_photos["id"])
    finally:
        conn.close()
    run_jobs(app)
    assert [t["kind"] for t in db_rows(app, "SELECT kind FROM tasks")] == ["index"]
    done = one(app, "SELECT * FROM tasks WHERE id = ?", (task["id"],))
    assert done["status"] == "completed"
    assert done["progress"] == done["total"] == len(photo_ids(app, event_of_photos["id"]))
    assert_indexed_once(app, event_of_photos["id"])


def test_helpers_wanted_follows_the_setting_and_the_runner():
    assert index_share.helpers_wanted({"JOB_RUNNER": "celery", "INDEX_HELPERS": -1}) == 3
    assert index_share.helpers_wanted({"JOB_RUNNER": "thread", "INDEX_HELPERS": -1}) == 0
    assert index_share.helpers_wanted({"JOB_RUNNER": "thread", "INDEX_HELPERS": 2}) == 2
    assert index_share.helpers_wanted({"JOB_RUNNER": "celery", "INDEX_HELPERS": "0"}) == 0


def worker_ready(env, n):
    """Whether worker ``n``'s log says it is consuming."""
    path = env.tmp_path / f"worker-{n}.log"
    return path.exists() and " ready." in path.read_text()


@pytest.mark.slow
@needs_postgresql
def test_two_celery_workers_index_one_event_together_exactly_once(celery_env, faces_dir,
                                                                 tmp_path):
    hooks = tmp_path / "after_indexing.log"
    env = celery_env(INDEX_BATCH_SIZE=8, PHOPY_TEST_HOOK_LOG=str(hooks))
    app = env.app
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Two workers")
    photos = sorted((faces_dir / "group_photos").glob("*.jpg"))
    env.start_worker()
    env.start_worker()
    env.wait_for(lambda: worker_ready(env, 0) and worker_ready(env, 1), 120,
                 "both workers to be ready")
    add_files(app, event["id"], photos)  # queues the index task: a message goes out
    parent = env.wait_for(
        lambda: one(app, "SELECT * FROM tasks WHERE kind = 'index' AND status IN "
                         "('completed', 'failed')"), 300, "the event to be indexed")
    assert parent["status"] == "completed", (parent["error"], env.log())
    env.wait_for(lambda: not db_rows(app, "SELECT id FROM tasks WHERE status IN "
                                          "('pending', 'running')"), 60, "the helpers to end")
    assert parent["progress"] == parent["total"] == len(photos)
    checkpoints = assert_indexed_once(app, event["id"])
    helpers = db_rows(app, "SELECT * FROM tasks WHERE parent_id = ?", (parent["id"],))
    assert 1 <= len(helpers) <= index_share.DEFAULT_CELERY_HELPERS
    assert all(h["kind"] == "index_part" and h["status"] == "completed" for h in helpers)
    pids = {str(w.pid) for w in env.workers}
    scanned_by = {}
    for task in [parent] + helpers:
        n = sum(1 for c in checkpoints if c["task_id"] == task["id"])
        if n:
            pid = task["claimed_by"].split(":")[1]
            scanned_by[pid] = scanned_by.get(pid, 0) + n
    assert set(scanned_by) == pids, (scanned_by, pids)  # both machines scanned photos
    faces = one(app, "SELECT COUNT(*) AS n FROM faces WHERE event_id = ?", (event["id"],))["n"]
    assert json.loads(parent["result"]) == {"photos": len(photos), "faces": faces}
    assert hooks.read_text().split()[::2] == [str(event["id"])]  # the follow-up ran once


def test_shared_claims_take_the_largest_photos_first_in_claims_sized_by_pace(
        app, event_of_photos):
    event_id = event_of_photos["id"]
    sizes = {r["id"]: r["size_bytes"] for r in db_rows(
        app, "SELECT id, size_bytes FROM photos WHERE event_id = ?", (event_id,))}
    conn = get_database(app).connect()
    try:
        config = {"INDEX_HELPERS": 1, "TASK_STALE_SECONDS": 60}
        claims = index_share.Claims(get_database(app), conn, config, event_id, "h",
                                    batch_size=16, min_batch=1)
        assert claims.batch_limit(1) == 16  # alone: whole batches, as before
        assert claims.batch_limit(2) == 1  # shared, pace unknown: one photo per process
        claims.timed(1.0, 10)  # 0.1 s a photo: about CLAIM_SECONDS of work ...
        assert claims.batch_limit(2) == min(16, int(index_share.CLAIM_SECONDS / 0.1),
                                            -(-len(sizes) // 4))  # ... and half a share
        first = claims.claim(2)
        assert [p["size_bytes"] for p in first] == sorted(sizes.values(), reverse=True)[
            :len(first)]
        alone = index_share.Claims(get_database(app), conn, {"INDEX_HELPERS": 0}, event_id,
                                   "g", batch_size=3)
        assert [p["id"] for p in alone.claim()] == sorted(set(sizes) - {
            p["id"] for p in first})[:3]  # one worker per event: oldest first
    finally:
        conn.close()
