"""Running-event fixtures: generated race photos (real faces, drawn bibs), an event
marked "running event", indexed and read with the real face engine and real OCR."""
import pytest

from phopy.data import get_database
from tests.bibs.helpers import runner_photo
from tests.conftest import add_files, index_all, make_event, make_photographer

# name -> (shared photo, bib drawn under the face or None, what else)
RACE = {
    "a_obama_4271.jpg": ("face_recognition_examples/obama.jpg", "4271", {"chip": "5512"}),
    "b_biden_A318.jpg": ("face_recognition_examples/biden.jpg", "A318", {}),
    "c_obama_no_bib.jpg": ("face_recognition_examples/obama2.jpg", None, {}),
    "d_hidden_4271.jpg": ("face_recognition_tests/obama3.jpg", "4271", {"hide_face": True}),
}


@pytest.fixture(scope="session")
def race_photos(faces_dir, engine, tmp_path_factory):
    """{name: path} of the generated race photos (made once a session)."""
    folder = tmp_path_factory.mktemp("race")
    paths = {}
    for name, (source, number, extra) in RACE.items():
        path = folder / name
        path.write_bytes(runner_photo(engine, faces_dir / source, number, **extra))
        paths[name] = path
    return paths


def conn_of(app):
    return get_database(app).connect()


def mark_running(app, event_id, pattern=None, search=True):
    """Mark an event "running event" through the service the dashboard calls."""
    from phopy.bibs import service
    conn = conn_of(app)
    try:
        service.save_settings(conn, app.config, event_id, True, pattern, search)
    finally:
        conn.close()


@pytest.fixture
def owner(face_app):
    return make_photographer(face_app)


@pytest.fixture
def race(face_app, owner, race_photos):
    """A running event with the race photos, indexed and read: {event, photos: {name: id}}."""
    event = make_event(face_app, owner["id"], "Chiang Mai Marathon")
    mark_running(face_app, event["id"])
    add_files(face_app, event["id"], list(race_photos.values()))
    index_all(face_app)
    from tests.conftest import db_rows
    ids = {r["filename"]: r["id"] for r in db_rows(face_app, "SELECT id, filename FROM photos "
                                                   "WHERE event_id = ?", (event["id"],))}
    return {"event": event, "photos": ids}
