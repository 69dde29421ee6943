"""Shared fixtures: a fresh app on a fresh database for every test, plus builders.

``PHOPY_TEST_DATABASE=postgresql`` (test.sh's second pass, with
``PHOPY_TEST_PG_ADMIN_URL`` naming its throwaway server) gives every test data
folder its own PostgreSQL schema, created from schema_postgresql.sql; otherwise
each test has a SQLite file in its data folder.
"""
import io
import itertools
import os
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from phopy import create_app
from phopy.config import TestingConfig
from tests.face_data import require_faces_dir

PASSWORD = "correct-horse-9"
TEST_DATABASE = os.environ.get("PHOPY_TEST_DATABASE", "sqlite")
REPO_ROOT = Path(__file__).resolve().parent.parent
_pg_urls = {}  # test data folder -> its PostgreSQL URL
_pg_names = itertools.count(1)


def uses_postgresql():
    """True in the PostgreSQL pass."""
    return TEST_DATABASE == "postgresql"


needs_postgresql = pytest.mark.skipif(
    TEST_DATABASE != "postgresql", reason="runs in the PostgreSQL pass (./test.sh)")


def pg_admin_url():
    url = os.environ.get("PHOPY_TEST_PG_ADMIN_URL")
    if not url:
        raise RuntimeError("PHOPY_TEST_DATABASE=postgresql needs PHOPY_TEST_PG_ADMIN_URL "
                           "(./test.sh starts a throwaway server and sets it)")
    return url


def pg_url(database, schema=None):
    """The admin URL pointed at ``database`` (and ``schema`` as search_path)."""
    parts = urlsplit(pg_admin_url())
    query = f"options={quote(f'-c search_path={schema}')}" if schema else ""
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", query, ""))


def pg_execute(url, *statements):
    """Run statements on a short-lived autocommit connection."""
    import psycopg2
    raw = psycopg2.connect(url)
    raw.autocommit = True
    try:
        with raw.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        raw.close()


def new_pg_schema():
    """A fresh, empty-tabled Phopy schema on the test server; return its URL."""
    database = f"phopy_test_{os.getpid()}"
    if not _pg_urls.get("__database__"):
        pg_execute(pg_admin_url(), f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                   f"CREATE DATABASE {database}")
        _pg_urls["__database__"] = database
    schema = f"t{next(_pg_names)}"
    pg_execute(pg_url(database), f"CREATE SCHEMA {schema}", f"SET search_path = {schema}",
               (REPO_ROOT / "schema_postgresql.sql").read_text())
    return pg_url(database, schema)


def database_url_for(tmp_path):
    """DATABASE_URL for the data under ``tmp_path``: '' (a SQLite file in its data
    folder) or, in the PostgreSQL pass, its own schema. Servers started as
    subprocesses get the same value in their environment."""
    if not uses_postgresql():
        return ""
    key = str(tmp_path)
    if key not in _pg_urls:
        _pg_urls[key] = new_pg_schema()
    return _pg_urls[key]


def make_test_config(tmp_path, **overrides):
    """TestingConfig as a dict, with all state under tmp_path."""
    cfg = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    cfg.update(DATA_DIR=str(tmp_path / "data"), LOG_DIR=str(tmp_path / "logs"),
               DATABASE_URL=database_url_for(tmp_path) or None,
               PUBLIC_BASE_URL="http://phopy.test")
    cfg.update(overrides)
    return cfg


def pytest_sessionfinish(session, exitstatus):
    """Drop this run's PostgreSQL test database (the server itself is throwaway too)."""
    database = _pg_urls.pop("__database__", None)
    if database:
        try:
            pg_execute(pg_admin_url(), f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        except Exception:  # the server may already be gone
            pass


@pytest.fixture(scope="session")
def faces_dir():
    """The shared face photo folder (skips, or fails in CI, when absent)."""
    return require_faces_dir()


ENGINE_NAMES = ("sface", "dlib", "mobilefacenet")  # the default first


def model_dir():
    """Where tests find fetched weights: FACE_MODEL_DIR (test.sh sets it) or the user cache."""
    from phopy.faces.models import user_cache_dir
    return str(user_cache_dir())


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

    def analyze(self, items, storage=None, task=None):
        return self.pool.analyze(items, storage=storage, task=task)

    @property
    def processes(self):
        return self.pool.processes

    def close(self):
        pass


@pytest.fixture(scope="session")
def shared_pool(engine):
    """An in-process pool on the same engine settings as ``engine``."""
    from phopy.faces import FacePool
    pool = FacePool(engine.settings, processes=1)
    yield SharedPool(pool)
    pool.close()


@pytest.fixture(scope="session")
def engine_for(engine, shared_pool):
    """``engine_for(name)``: a real engine and shared pool of that face engine, made once
    a session (dlib's are the session's ``engine`` and ``shared_pool``)."""
    from phopy.faces import FaceEngine, FacePool
    made = {engine.settings.engine: (engine, shared_pool)}
    opened = []

    def get(name):
        if name not in made:
            other = FaceEngine(make_engine_settings(name))
            pool = FacePool(other.settings, processes=1)
            opened.append(pool)
            made[name] = (other, SharedPool(pool))
        return made[name]
    yield get
    for pool in opened:
        pool.close()


def use_engine(app, engine, pool):
    """Make ``app`` run this engine everywhere: selfies, its settings, indexing."""
    app.config["FACE_ENGINE"] = engine.settings.engine
    app.extensions["phopy_engine"] = engine
    app.extensions["phopy_engine_settings"] = engine.settings
    app.extensions["phopy_test_pool"] = pool
    return app


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


def _test_runner(app, share_engine=False):
    """A runner using the test's face pool (and the app's own engine) when it has them."""
    from phopy.jobs.setup import make_runner
    runner = make_runner(app)
    pool = app.extensions.get("phopy_test_pool")
    if pool is not None:
        runner._pool_factory = lambda: pool
    engine = app.extensions.get("phopy_engine") if share_engine else None
    if engine is not None:
        runner._engine_factory = lambda: engine
    return runner


def index_all(app):
    """Run every queued task to completion in this process (real engine, real DB)."""
    return _test_runner(app).run_until_idle()


def run_jobs(app, rounds=20):
    """Run queued tasks, and the tasks they queue (retries included), until none is left;
    return how many ran."""
    runner = _test_runner(app, share_engine=True)
    total = 0
    for _ in range(rounds):
        ran = runner.run_until_idle()
        total += ran
        if not ran:
            break
    return total


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
