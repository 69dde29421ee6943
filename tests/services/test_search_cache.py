"""The search cache: new faces appended, removals reloaded, a size limit, purged events
dropped; on the app's real database with stored face rows."""
import numpy as np
import pytest
from PIL import Image

from phopy.data import faces as faces_db
from phopy.data import get_database
from phopy.data import photos as photos_db
from phopy.data import retention
from phopy.extensions import get_storage
from phopy.faces import EngineSettings, match_photos
from phopy.faces.engine import engine_key
from phopy.faces.search import PREFILTER_MIN_FACES, FaceIndex
from phopy.services import photos as photos_service
from phopy.services.search import SearchCache
from tests.conftest import add_files, make_engine_settings, make_event, make_photographer

RNG = np.random.default_rng(7)
DLIB = make_engine_settings("dlib")


@pytest.fixture
def conn(app):
    connection = get_database(app).connect()
    yield connection
    connection.close()


@pytest.fixture
def owner(app):
    return make_photographer(app)


@pytest.fixture
def event(app, owner):
    return make_event(app, owner["id"])


def photos_of(app, event_id, tmp_path, count):
    paths = []
    for n in range(count):
        path = tmp_path / f"{event_id[:6]}-{n}.jpg"
        Image.new("RGB", (64, 48), (n * 40 % 256, 90, 30)).save(path)
        paths.append(path)
    add_files(app, event_id, paths, queue=False)
    conn = get_database(app).connect()
    try:
        return conn.all("SELECT * FROM photos WHERE event_id = ? ORDER BY id", (event_id,))
    finally:
        conn.close()


def store_faces(conn, photo, count, settings=DLIB):
    encodings = RNG.normal(size=(count, settings.profile.size)).astype("<f4")
    faces = [((1, 2, 3, 4), e.tobytes()) for e in encodings]
    assert photos_db.record_scan(conn, photo, None, "indexed", faces,
                                 engine_key=engine_key(settings))
    return encodings


def same_index(a, b):
    assert a.face_ids.tolist() == b.face_ids.tolist()
    assert a.photo_ids.tolist() == b.photo_ids.tolist()
    assert np.array_equal(a.encodings, b.encodings) and np.allclose(a.sq_norms, b.sq_norms)


def test_new_faces_are_appended_and_removals_reload(app, tmp_path, conn, event):
    settings = DLIB  # the faces store_faces writes are dlib's
    rows = photos_of(app, event["id"], tmp_path, 3)
    cache = SearchCache()
    store_faces(conn, rows[0], 4)
    assert len(cache.get_index(conn, event["id"], settings)) == 4
    store_faces(conn, rows[1], 3)  # a new photo's faces: only they are read
    index = cache.get_index(conn, event["id"], settings)
    assert len(index) == 7 and cache.loads == {"full": 1, "incremental": 1}
    same_index(index, SearchCache().get_index(conn, event["id"], settings))
    cache.get_index(conn, event["id"], settings)  # nothing changed: nothing read
    assert cache.loads == {"full": 1, "incremental": 1}

    photos_service.delete_photo(conn, get_storage(app), event["id"], rows[0]["id"])
    index = cache.get_index(conn, event["id"], settings)  # a removal: the event reloads
    assert cache.loads["full"] == 2 and len(index) == 3
    assert set(index.photo_ids.tolist()) == {rows[1]["id"]}
    store_faces(conn, rows[2], 2)
    assert len(cache.get_index(conn, event["id"], settings)) == 5
    assert cache.loads == {"full": 2, "incremental": 2}

    photos_db.reset_scans(conn, event["id"])  # a re-index starts from nothing
    assert len(cache.get_index(conn, event["id"], settings)) == 0
    assert cache.loads["full"] == 3


def test_the_size_limit_evicts_the_least_recently_searched_event(app, tmp_path, conn, owner):
    settings = DLIB  # the faces store_faces writes are dlib's
    events = [make_event(app, owner["id"], f"Event number {n}") for n in range(3)]
    for event in events:
        store_faces(conn, photos_of(app, event["id"], tmp_path, 1)[0], 100)
    one = SearchCache().get_index(conn, events[0]["id"], settings).nbytes  # spare rows too
    assert one >= 100 * 128 * 4
    limit = 2.5 * one / (1024 * 1024)
    cache = SearchCache(max_mb=limit)  # room for two events
    for event in events[:2]:
        cache.get_index(conn, event["id"], settings)
    cache.get_index(conn, events[0]["id"], settings)  # the first is searched again
    cache.get_index(conn, events[2]["id"], settings)
    assert [e["id"] in cache for e in events] == [True, False, True]
    assert cache.nbytes <= limit * 1024 * 1024
    tiny = SearchCache(max_mb=one / 2 / (1024 * 1024))  # less than one event: it stays
    assert len(tiny.get_index(conn, events[1]["id"], settings)) == 100
    assert events[1]["id"] in tiny


def test_purged_events_are_dropped_at_the_next_look_up(app, tmp_path, conn, owner):
    settings = DLIB  # the faces store_faces writes are dlib's
    kept, purged = (make_event(app, owner["id"], name) for name in ("Kept event", "Purged one"))
    for event in (kept, purged):
        store_faces(conn, photos_of(app, event["id"], tmp_path, 1)[0], 5)
    cache = SearchCache()
    cache.get_index(conn, purged["id"], settings)
    with conn.transaction():
        retention.purge_faces(conn, purged["id"])
    cache.get_index(conn, kept["id"], settings)  # the next look-up of any event
    assert purged["id"] not in cache and kept["id"] in cache
    assert len(cache.get_index(conn, purged["id"], settings)) == 0
    assert purged["id"] not in cache  # nothing is kept for a purged event


def test_the_other_engines_count_is_kept_per_faces_version(app, tmp_path, conn, event):
    settings = DLIB  # the faces store_faces writes are dlib's
    rows = photos_of(app, event["id"], tmp_path, 2)
    store_faces(conn, rows[0], 2)
    cache = SearchCache()
    assert cache.other_engine_faces(conn, event["id"], settings) == 0
    photos_db.record_scan(conn, rows[1], None, "indexed",
                          [((1, 2, 3, 4), bytes(512 * 4))], engine_key=("other", "v9"))
    assert cache.other_engine_faces(conn, event["id"], settings) == 1
    assert len(cache.get_index(conn, event["id"], settings)) == 2  # only its own engine


def test_an_extended_index_searches_like_a_fresh_one_with_the_prefilter_built():
    n = PREFILTER_MIN_FACES + 500
    encodings = RNG.normal(scale=0.1, size=(n + 40, 128)).astype(np.float32)
    ids = np.arange(n + 40)
    old = FaceIndex(ids[:n], ids[:n] // 5, encodings[:n], engine="dlib")
    query = encodings[n + 3] + 0.01  # close to one of the added faces
    old.within(query, 0.6)  # builds the prefilter's projections
    grown = old.extended(ids[n:], ids[n:] // 5, encodings[n:])
    fresh = FaceIndex(ids, ids // 5, encodings, engine="dlib")
    for q in (query, encodings[17]):
        rows_a, dist_a = grown.within(q, 0.6)
        rows_b, dist_b = fresh.within(q, 0.6)
        assert rows_a.tolist() == rows_b.tolist() and np.allclose(dist_a, dist_b)
    assert n + 3 in grown.within(query, 0.6)[0].tolist()


def test_the_loader_reads_the_same_ids_and_matrix_as_the_rows(app, tmp_path, conn, event):
    """The binary COPY loader (PostgreSQL) and the tuples (SQLite) against the plain rows,
    for 128- and 512-value encodings, faces of another engine left out, and ``after_id``."""
    mobile = EngineSettings(engine="mobilefacenet")  # 512 values; no weights needed here
    rows = photos_of(app, event["id"], tmp_path, 4)
    for settings in (DLIB, mobile):
        assert [len(a) for a in faces_db.event_matrix(
            conn, event["id"], *engine_key(settings), settings.profile.size)] == [0, 0, 0]
    store_faces(conn, rows[0], 3)
    store_faces(conn, rows[1], 2, mobile)
    store_faces(conn, rows[2], 4)
    store_faces(conn, rows[3], 1, mobile)
    for settings in (DLIB, mobile):
        key, size = engine_key(settings), settings.profile.size
        ids, photo_ids, blobs = faces_db.load_event_encodings(conn, event["id"], *key)
        expected = np.stack([np.frombuffer(bytes(b), "<f4") for b in blobs])
        face_ids, photos, matrix = faces_db.event_matrix(conn, event["id"], *key, size)
        assert face_ids.dtype == photos.dtype == np.int64 and matrix.dtype == np.float32
        assert face_ids.tolist() == ids and photos.tolist() == photo_ids
        assert matrix.shape == (len(ids), size) and np.array_equal(matrix, expected)
        later = faces_db.event_matrix(conn, event["id"], *key, size, after_id=ids[0])
        assert later[0].tolist() == ids[1:] and np.array_equal(later[2], expected[1:])
        index = SearchCache().get_index(conn, event["id"], settings)
        same_index(index, FaceIndex(ids, photo_ids, expected, engine=settings.profile))


def test_a_big_load_is_split_across_two_connections_in_one_snapshot(app, tmp_path, event):
    """PostgreSQL: the cold load of a big event reads two halves of its ids over two
    pooled connections in one exported snapshot; the arrays are the single read's; a
    face committed meanwhile is in neither half; a full pool reads in one piece; the
    second connection goes back to the pool."""
    from phopy.data import Database
    database = get_database(app)
    if database.dialect != "postgresql":
        pytest.skip("split reads are PostgreSQL's (SQLite reads in process)")
    rows = photos_of(app, event["id"], tmp_path, 4)
    mobile = EngineSettings(engine="mobilefacenet")
    small = Database(database.url, pool_max=2)
    conn = small.connect()
    try:
        for row, count, settings in ((rows[0], 3, DLIB), (rows[1], 2, mobile), (rows[2], 5, DLIB)):
            store_faces(conn, row, count, settings)
        key, size = engine_key(DLIB), DLIB.profile.size
        whole = faces_db.event_matrix(conn, event["id"], *key, size, split_from=10 ** 9)
        assert len(whole[0]) == 8
        for _ in range(3):  # the second connection is handed back each time
            halves = faces_db.event_matrix(conn, event["id"], *key, size, split_from=1)
            assert all(np.array_equal(a, b) for a, b in zip(whole, halves))
        with conn.split_read() as other:
            assert other is not None
            writer = get_database(app).connect()
            try:
                store_faces(writer, rows[3], 2)
            finally:
                writer.close()
            count = "SELECT count(*) FROM faces WHERE event_id = ?"
            assert conn.scalar(count, (event["id"],)) == other.scalar(count, (event["id"],)) \
                == 10
        assert conn.scalar(count, (event["id"],)) == 12
        held = small.connect()  # the pool's last connection: no second one now
        try:
            with conn.split_read() as other:
                assert other is None
            alone = faces_db.event_matrix(conn, event["id"], *key, size, split_from=1)
            assert len(alone[0]) == 10 and np.array_equal(alone[2][:8], whole[2])
        finally:
            held.close()
    finally:
        conn.close()
        small.close()


def test_a_new_face_is_found_without_a_reload_and_a_removed_one_forces_one(app, tmp_path,
                                                                           conn, event):
    rows = photos_of(app, event["id"], tmp_path, 3)
    cache = SearchCache()
    first = store_faces(conn, rows[0], 3)
    index = cache.get_index(conn, event["id"], DLIB)
    new = store_faces(conn, rows[1], 2)[1]
    assert not match_photos(index, [new], 0.05)  # the index searched before: not yet
    grown = cache.get_index(conn, event["id"], DLIB)
    assert [m.photo_id for m in match_photos(grown, [new], 0.05)] == [rows[1]["id"]]
    assert cache.loads == {"full": 1, "incremental": 1}
    assert np.shares_memory(grown.encodings, index.encodings)  # appended in place

    photos_service.delete_photo(conn, get_storage(app), event["id"], rows[1]["id"])
    after = cache.get_index(conn, event["id"], DLIB)
    assert cache.loads["full"] == 2 and not match_photos(after, [new], 0.05)
    assert [m.photo_id for m in match_photos(after, [first[0]], 0.05)] == [rows[0]["id"]]


def test_the_cached_summary_moves_with_photos_checkpoints_and_deletions(app, tmp_path,
                                                                        conn, event):
    rows = photos_of(app, event["id"], tmp_path, 2)
    cache = SearchCache()
    def summary():
        found = cache.summary(conn, event["id"], DLIB)
        assert found == photos_db.checkpoint_summary(conn, event["id"])
        return found["total_photos"], found["scanned"], found["remaining"]

    assert summary() == (2, 0, 2)
    entry = cache.lookup(conn, event["id"], DLIB)
    entry.summary["total_photos"] = 99  # kept for the version: nothing read again...
    assert cache.summary(conn, event["id"], DLIB)["total_photos"] == 99
    store_faces(conn, rows[0], 2)  # ...until it moves: a photo's faces
    assert summary() == (2, 1, 1)
    assert photos_db.record_scan(conn, rows[1], None, "no_faces", [])  # no faces at all
    assert summary() == (2, 2, 0)
    Image.new("RGB", (64, 48), (7, 200, 90)).save(tmp_path / "new.jpg")
    add_files(app, event["id"], [tmp_path / "new.jpg"], queue=False)  # a new upload
    assert summary() == (3, 2, 1)
    photos_service.delete_photo(conn, get_storage(app), event["id"], rows[1]["id"])
    assert summary() == (2, 1, 1)
