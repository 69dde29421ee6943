"""Shared fixtures: a fresh app on a temp SQLite file for every test, plus builders."""
import io
import os
import shutil
from pathlib import Path

import pytest

from phopy import create_app
from phopy.config import TestingConfig
from tests.face_data import require_faces_dir

PASSWORD = "correct-horse-9"


def make_test_config(tmp_path, **overrides):
    """TestingConfig as a dict, with all state under tmp_path."""
    cfg = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    cfg.update(DATA_DIR=str(tmp_path / "data"), LOG_DIR=str(tmp_path / "logs"),
               DATABASE_URL=None, PUBLIC_BASE_URL="http://phopy.test")
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope="session")
def faces_dir():
    """The shared face photo folder (skips, or fails in CI, when absent)."""
    return require_faces_dir()


ENGINE_NAMES = ("dlib", "mobilefacenet")


def model_dir():
    """Where tests find fetched weights: FACE_MODEL_DIR (test.sh sets it) or the user cache."""
    return os.environ.get("FACE_MODEL_DIR") or str(Path.home() / ".cache" / "phopy" / "models")


def make_engine_settings(name="dlib", **overrides):
    """EngineSettings for an engine by name; its weights are fetched if not cached yet."""
    from phopy.faces import EngineSettings
    from phopy.faces.models import ensure_model, models_for
    settings = EngineSettings(engine=name, model_dir=model_dir(), **overrides)
    for model in models_for(settings.engine, settings.detector):
        ensure_model(model, settings.model_dir)
    return settings


@pytest.fixture(scope="session")
def engine():
    """One real face engine for the whole session (models load once)."""
    from phopy.faces import FaceEngine
    return FaceEngine(make_engine_settings("dlib"))


class SharedPool:
    """A real in-process FacePool kept open across tests (closing is a no-op)."""

    def __init__(self, pool):
        self.pool = pool

    def analyze(self, items):
        return self.pool.analyze(items)

    def close(self):
        pass


@pytest.fixture(scope="session")
def shared_pool(engine):
    """An in-process pool on the same engine settings as ``engine``."""
    from phopy.faces import FacePool
    pool = FacePool(engine.settings, processes=1)
    yield SharedPool(pool)
    pool.close()


@pytest.fixture
def app(tmp_path):
    """A fresh app on its own temp data folder."""
    application = create_app(make_test_config(tmp_path))
    yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def face_app(app, engine, shared_pool):
    """The app with the shared engine for selfies and a helper to index events."""
    app.extensions["phopy_engine"] = engine
    app.extensions["phopy_engine_settings"] = engine.settings
    app.extensions["phopy_test_pool"] = shared_pool
    return app


def index_all(app):
    """Run every queued task to completion in this process (real engine, real DB)."""
    from phopy.jobs import make_runner
    runner = make_runner(app)
    pool = app.extensions.get("phopy_test_pool")
    if pool is not None:
        runner._pool_factory = lambda: pool
    return runner.run_until_idle()


def make_photographer(app, email="ann@example.com", password=PASSWORD):
    """Create a photographer account; return its row."""
    from phopy.data import get_database
    from phopy.services import accounts
    conn = get_database(app).connect()
    try:
        return accounts.register(conn, email, password)
    finally:
        conn.close()


def login(client, email="ann@example.com", password=PASSWORD):
    """Log the test client in."""
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.data[:500]
    return response


def make_event(app, owner_id, name="Bangkok Marathon 2026", **kwargs):
    """Create an event; return its row."""
    from phopy.data import get_database
    from phopy.extensions import get_storage
    from phopy.services import events
    conn = get_database(app).connect()
    try:
        return events.create_event(conn, get_storage(app), owner_id, name,
                                   base_url=app.config["PUBLIC_BASE_URL"], **kwargs)
    finally:
        conn.close()


def add_files(app, event_id, paths, queue=True):
    """Import photo files into an event (and queue indexing); return the summary."""
    from phopy.data import get_database
    from phopy.extensions import get_storage
    from phopy.services import indexing, photos
    from phopy.sources import UploadSource
    conn = get_database(app).connect()
    try:
        files = [(Path(p).name, Path(p).read_bytes()) for p in paths]
        summary = photos.import_items(conn, get_storage(app), event_id,
                                      UploadSource(files).items(),
                                      max_bytes=app.config["MAX_PHOTO_BYTES"])
        if queue:
            indexing.enqueue_indexing(conn, event_id)
        return summary
    finally:
        conn.close()


def db_rows(app, sql, params=()):
    """Rows of a query against the app's real database file."""
    from phopy.data import get_database
    conn = get_database(app).connect()
    try:
        return conn.all(sql, params)
    finally:
        conn.close()


def file_upload(path, name=None):
    """A (stream, filename) pair for Flask's test client."""
    return (io.BytesIO(Path(path).read_bytes()), name or Path(path).name)
