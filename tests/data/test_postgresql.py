"""PostgreSQL for real: concurrent claims, init-db on an empty database, the pool."""
import multiprocessing
import os
import subprocess
import sys
import threading
import time

from phopy.data import Database, get_database
from phopy.data import tasks as tasks_db
from phopy.data.migrate import schema_tables
from phopy.jobs.queue import enqueue
from tests.conftest import REPO_ROOT, needs_postgresql, pg_execute, pg_url

pytestmark = needs_postgresql


def _claim_all(url, n, barrier, results):
    """One worker process: claim until the queue is empty, finishing each task."""
    database = Database(url)
    conn = database.connect()
    runner = f"proc-{n}:{os.getpid()}"
    claimed = []
    barrier.wait(60)
    while True:
        task = tasks_db.claim(conn, runner, lambda t: False)
        if task is None:
            break
        claimed.append(task["id"])
        assert tasks_db.finish(conn, task["id"], runner, "completed", result={"by": n})
    conn.close()
    results.put((n, claimed))


def test_eight_processes_claim_each_task_exactly_once(app):
    conn = get_database(app).connect()
    queued = {enqueue(conn, "prune_tasks", {"keep_days": i})["id"] for i in range(240)}
    conn.close()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    procs = [ctx.Process(target=_claim_all,
                         args=(app.config["DATABASE_URL"], n, barrier, results))
             for n in range(8)]
    for p in procs:
        p.start()
    by_process = dict(results.get(timeout=180) for _ in procs)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    claimed = [task_id for ids in by_process.values() for task_id in ids]
    assert len(claimed) == len(set(claimed)) == 240
    assert set(claimed) == queued
    assert sum(1 for ids in by_process.values() if ids) >= 2  # they really competed
    conn = get_database(app).connect()
    assert conn.all("SELECT status, attempts, COUNT(*) AS n FROM tasks "
                    "GROUP BY status, attempts") == [
        {"status": "completed", "attempts": 1, "n": 240}]
    conn.close()


def test_tasks_sharing_a_lock_key_never_run_at_once_across_connections(app):
    conn = get_database(app).connect()
    for _ in range(2):
        enqueue(conn, "prune_tasks", lock_key="event:one")
    enqueue(conn, "prune_tasks", lock_key="event:two")
    conns = [get_database(app).connect() for _ in range(6)]
    barrier, got = threading.Barrier(6), []

    def race(n):
        barrier.wait()
        task = tasks_db.claim(conns[n], f"r{n}", lambda t: False)
        if task:
            got.append(task["lock_key"])

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == ["event:one", "event:two"]
    assert conn.scalar("SELECT COUNT(*) FROM tasks WHERE status = 'running'") == 2
    for c in conns + [conn]:
        c.close()


def test_init_db_creates_every_table_on_an_empty_database(tmp_path):
    name = f"phopy_initdb_{os.getpid()}"
    pg_execute(pg_url("postgres"), f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    try:
        env = dict(os.environ, DATABASE_URL=pg_url(name), SECRET_KEY="x",
                   PHOPY_DATA_DIR=str(tmp_path / "data"), LOG_DIR=str(tmp_path / "logs"))
        flask = [sys.executable, "-m", "flask", "--app", "app", "init-db"]
        for _ in range(2):  # and again: nothing to do, no error
            out = subprocess.run(flask, cwd=REPO_ROOT, env=env, capture_output=True,
                                 text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            assert "Database ready" in out.stdout
        database = Database(pg_url(name))
        conn = database.connect()
        tables = {r["table_name"] for r in conn.all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
        conn.close()
        database.close()
        assert tables == set(schema_tables())
    finally:
        pg_execute(pg_url("postgres"), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_pool_reuses_connections_and_waits_when_all_are_busy(app):
    database = Database(app.config["DATABASE_URL"], pool_min=1, pool_max=2, pool_timeout=10)
    first = database.connect()
    pid = first.scalar("SELECT pg_backend_pid()")
    first.close()
    again = database.connect()
    assert again.scalar("SELECT pg_backend_pid()") == pid  # the same pooled connection
    other = database.connect()
    waited = []

    def third():
        start = time.monotonic()
        conn = database.connect()
        waited.append(time.monotonic() - start)
        conn.close()

    thread = threading.Thread(target=third)
    thread.start()
    time.sleep(0.5)
    assert not waited  # blocked, not failed
    other.close()
    thread.join(10)
    assert waited and waited[0] >= 0.4
    # A connection handed back mid-transaction is rolled back, not leaked.
    again.raw.cursor().execute("BEGIN")
    again.execute("INSERT INTO schedule_leases (name, next_run_at) VALUES ('x', 1)")
    again.close()
    conn = database.connect()
    assert conn.scalar("SELECT COUNT(*) FROM schedule_leases WHERE name = 'x'") == 0
    conn.close()
    database.close()
