"""The leased schedule: several runner processes, each due entry enqueued exactly once."""
import multiprocessing
import time

from phopy.data import get_database
from phopy.data import schedules as schedules_db
from phopy.jobs import schedule
from tests.conftest import db_rows, make_test_config


def prune(names):
    """Only the prune-tasks entry (other entries have their own tests)."""
    return [n for n in names if n == "prune-tasks"]


def _poll_schedule(config, barrier, rounds):
    """A runner process: poll the schedule ``rounds`` times as the light lane does."""
    from phopy import create_app
    from phopy.jobs.setup import make_runner
    app = create_app(config)
    runner = make_runner(app)
    barrier.wait(30)
    for _ in range(rounds):
        runner.run_schedule()
        time.sleep(0.01)


def test_each_due_entry_is_enqueued_once_by_several_processes(app, tmp_path):
    app.config["TASK_PRUNE_HOURS"] = 1
    conn = get_database(app).connect()
    assert prune(schedule.run_due(conn, app.config, "first")) == []  # first run later
    assert db_rows(app, "SELECT COUNT(*) AS n FROM tasks")[0]["n"] == 0
    conn.execute("UPDATE schedule_leases SET next_run_at = ?", (time.time() - 1,))
    conn.close()

    config = make_test_config(tmp_path, DATABASE_URL=app.config["DATABASE_URL"],
                              TASK_PRUNE_HOURS=1)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(5)
    procs = [ctx.Process(target=_poll_schedule, args=(config, barrier, 20)) for _ in range(5)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0

    tasks = db_rows(app, "SELECT kind, lock_key FROM tasks WHERE kind = 'prune_tasks'")
    assert tasks == [{"kind": "prune_tasks", "lock_key": "schedule:prune-tasks"}]
    conn = get_database(app).connect()
    lease = schedules_db.get(conn, "prune-tasks")
    conn.close()
    assert lease["next_run_at"] >= lease["last_run_at"] + 3600 - 1
    assert lease["holder"]  # the runner that won


def test_due_entry_runs_again_after_its_interval_but_never_twice_early(app):
    app.config["TASK_PRUNE_HOURS"] = 1
    conn = get_database(app).connect()
    now = 1_000_000.0
    schedule.run_due(conn, app.config, "a", now=now)
    assert prune(schedule.run_due(conn, app.config, "a", now=now + 3599)) == []
    assert prune(schedule.run_due(conn, app.config, "b", now=now + 3600)) == ["prune-tasks"]
    assert prune(schedule.run_due(conn, app.config, "c", now=now + 3600)) == []
    assert prune(schedule.run_due(conn, app.config, "c", now=now + 7199)) == []
    assert prune(schedule.run_due(conn, app.config, "c", now=now + 7200)) == ["prune-tasks"]
    # The first run is still queued: the second reuses it rather than piling up.
    assert conn.scalar("SELECT COUNT(*) FROM tasks WHERE kind = 'prune_tasks'") == 1
    conn.close()


def test_entry_turned_off_in_config_is_not_enqueued(app):
    app.config["TASK_PRUNE_HOURS"] = 0
    conn = get_database(app).connect()
    assert "prune-tasks" not in [e.name for e in schedule.entries(app.config)]
    assert prune(schedule.run_due(conn, app.config, "a", now=1e12)) == []
    conn.close()
