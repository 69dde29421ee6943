"""The cheap checks of ``bench.storage`` (issue 20): six ``init-db`` at once on a new
PostgreSQL database, two Celery beats, Redis stopped under the web app."""
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.distributed import pg_database, start, stop

REPO = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))


def _app_config(url, data_dir, **extra):
    from bench.storage import app_config
    return app_config(url, data_dir, **extra)


def _worker_env(config, data_dir):
    from bench.storage import worker_env
    return worker_env(config, data_dir)


def init_db_six(tmp):
    """Six ``flask init-db`` at once on a new PostgreSQL database."""
    url = pg_database(os.environ["PHOPY_TEST_PG_ADMIN_URL"], "bench_storage_initdb")
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-secret",
               PHOPY_DATA_DIR=str(tmp / "initdb"), LOG_DIR=str(tmp / "initdb" / "logs"))
    command = [sys.executable, "-m", "flask", "--app", "app", "init-db"]

    def run(_):
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=300)
    with ThreadPoolExecutor(6) as pool:
        done = list(pool.map(run, range(6)))
    failed = [r.stderr.strip().splitlines()[-1:] for r in done if r.returncode]
    return {"runs": 6, "succeeded": sum(1 for r in done if r.returncode == 0),
            "errors": failed[:3]}


def two_beats(tmp, watch=14.0):
    """Two beats firing a 2 s periodic job (prune-tasks) for ``watch`` seconds."""
    from phopy import create_app
    from phopy.data import get_database
    from phopy.jobs import queue
    url = pg_database(os.environ["PHOPY_TEST_PG_ADMIN_URL"], "bench_storage_beats")
    queue_name = f"bench-{uuid.uuid4().hex[:6]}"
    config = _app_config(url, tmp / "beats", JOB_RUNNER="celery", CELERY_QUEUE=queue_name,
                        REDIS_URL=os.environ["PHOPY_TEST_REDIS_URL"], TASK_PRUNE_HOURS=2 / 3600,
                        JOB_SCHEDULE=True)
    app = create_app(config)
    get_database(app).init_schema()
    env = _worker_env(config, tmp / "beats")
    procs = []
    conn = get_database(app).connect()
    try:
        procs.append(start([CELERY, "-A", "phopy.jobs.worker", "worker", "--pool=solo", "-Q",
                            f"{queue_name},{queue_name}.heavy", "--loglevel=INFO"], env,
                           tmp / "beats-worker.log", "ready.", timeout=180))
        for n in range(2):
            procs.append(start([CELERY, "-A", "phopy.jobs.worker", "beat", "--loglevel=INFO",
                                "-s", str(tmp / f"beat-{n}.schedule")], env,
                               tmp / f"beat-{n}.log", "beat: Starting", timeout=180))
        deadline = time.monotonic() + 120
        while not conn.scalar("SELECT COUNT(*) FROM tasks WHERE kind = 'prune_tasks'"):
            if time.monotonic() > deadline:
                raise RuntimeError("no prune-tasks was queued")
            time.sleep(0.2)
        first = conn.scalar("SELECT MIN(created_at) FROM tasks WHERE kind = 'prune_tasks'")
        t0 = time.monotonic()
        time.sleep(watch)
        elapsed = time.monotonic() - t0
        runs = conn.scalar("SELECT COUNT(*) FROM tasks WHERE kind = 'prune_tasks' AND "
                           "created_at > ?", (first,))
    finally:
        conn.close()
        for proc in procs:
            stop(proc)
        if "celery_dispatch" in app.extensions:
            queue.remove_dispatcher(app.extensions["celery_dispatch"])
    return {"beats": 2, "interval_s": 2, "watched_s": round(elapsed, 1), "runs": runs,
            "intervals": round(elapsed / 2, 1)}


def redis_down(run):
    """The last run's web app with REDIS_URL at a port nobody listens on, limits on."""
    from phopy import create_app
    from phopy.data import get_database
    from phopy.services import accounts
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = dict(run["config"], JOB_RUNNER="none", RATELIMIT_ENABLED=True,
                  REDIS_URL=f"redis://127.0.0.1:{port}/0", RATELIMIT_STORAGE_URI=None,
                  SEARCH_INLINE=True)
    app = create_app(config)
    conn = get_database(app).connect()
    try:
        accounts.register(conn, "down@example.com", "down-pass-1")
    finally:
        conn.close()
    client = app.test_client()
    good = client.post("/auth/login", data={"email": "down@example.com",
                                            "password": "down-pass-1"})
    bad = client.post("/auth/login", data={"email": "down@example.com", "password": "nope"})
    selfie = Path(run["selfie"])
    search = client.post(f"/api/events/{run['event_id']}/search",
                         data={"selfies": [(open(selfie, "rb"), selfie.name)]},
                         content_type="multipart/form-data")
    return {"login": good.status_code, "wrong_password": bad.status_code,
            "search": search.status_code,
            "search_photos": len((search.get_json() or {}).get("photos", []))}
