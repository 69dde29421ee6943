"""Retries with backoff, failures the dashboard shows, on the real in-process runner."""
import time

import pytest

from phopy.data import get_database
from phopy.data import tasks as tasks_db
from phopy.errors import TransientError
from phopy.jobs import registry
from phopy.jobs.queue import enqueue
from tests.conftest import index_all, login, make_event, make_photographer


@pytest.fixture
def job_kinds():
    """Declare test job kinds through the real registry's decorator; restore it afterwards.

    A test may stand in for a real kind (a broken ``index``): that name is freed first."""
    saved = dict(registry.JOBS)

    def declare(name, func, **options):
        registry.JOBS.pop(name, None)
        return registry.job(name, **options)(func)
    yield declare
    registry.JOBS.clear()
    registry.JOBS.update(saved)


def run_to_end(app, task_id, timeout=20):
    """Run the queue (as the runner's loop would) until the task is finished."""
    conn = get_database(app).connect()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            index_all(app)
            task = tasks_db.get(conn, task_id)
            if task["status"] in ("completed", "failed"):
                return task
            time.sleep(0.05)
        pytest.fail(f"task {task_id} still {task['status']} after {timeout}s")
    finally:
        conn.close()


def test_transient_failures_retry_with_backoff_then_complete(app, job_kinds):
    app.config.update(JOB_RETRY_BASE_SECONDS=0.3, JOB_RETRY_MAX_SECONDS=5)
    calls = []

    def flaky(ctx, word):
        calls.append((time.monotonic(), ctx.task["attempts"]))
        if len(calls) <= 2:
            raise TransientError("Drive answered 503", retry_after=None)
        return {"echo": word}

    job_kinds("test_flaky", flaky, max_attempts=5)
    conn = get_database(app).connect()
    task = enqueue(conn, "test_flaky", {"word": "สวัสดี"})
    conn.close()
    done = run_to_end(app, task["id"])
    assert done["status"] == "completed"
    assert done["attempts"] == 3
    assert done["error"] is None
    assert tasks_db.decode_args(done) == {"word": "สวัสดี"}
    assert done["result"] == '{"echo": "\\u0e2a\\u0e27\\u0e31\\u0e2a\\u0e14\\u0e35"}'
    assert [a for _, a in calls] == [1, 2, 3]
    first_wait, second_wait = calls[1][0] - calls[0][0], calls[2][0] - calls[1][0]
    assert first_wait >= 0.3  # base
    assert second_wait >= 0.6  # doubled
    assert second_wait > first_wait


def test_retry_after_from_the_error_is_honoured(app, job_kinds):
    app.config.update(JOB_RETRY_BASE_SECONDS=0.01)
    calls = []

    def limited(ctx):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise TransientError("429 Too Many Requests", retry_after=0.8)

    job_kinds("test_limited", limited)
    conn = get_database(app).connect()
    task = enqueue(conn, "test_limited")
    conn.close()
    assert run_to_end(app, task["id"])["status"] == "completed"
    assert calls[1] - calls[0] >= 0.8


def test_job_that_keeps_failing_ends_failed_with_readable_error_on_dashboard(
        app, client, job_kinds):
    app.config.update(JOB_RETRY_BASE_SECONDS=0.05, JOB_RETRY_MAX_SECONDS=0.1)
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    calls = []

    def broken_index(ctx, event_id):
        calls.append(event_id)
        raise TransientError("Photo storage is not reachable")

    job_kinds("index", broken_index, needs_pool=True, max_attempts=3)
    conn = get_database(app).connect()
    task = enqueue(conn, "index", {"event_id": event["id"]}, event_id=event["id"],
                   lock_key=f"event:{event['id']}")
    conn.close()
    done = run_to_end(app, task["id"])
    assert done["status"] == "failed"
    assert done["attempts"] == 3 and len(calls) == 3
    assert done["error"] == "Photo storage is not reachable"

    login(client)
    page = client.get(f"/dashboard/events/{event['id']}").get_data(as_text=True)
    assert "Photo storage is not reachable" in page
    assert "Traceback" not in page
    api = client.get(f"/api/task/{task['id']}").get_json()
    assert api["status"] == "failed" and api["error"] == "Photo storage is not reachable"


def test_unexpected_exception_fails_at_once_with_its_type(app, job_kinds):
    calls = []

    def buggy(ctx):
        calls.append(1)
        return {}["missing"]

    job_kinds("test_buggy", buggy, max_attempts=5)
    conn = get_database(app).connect()
    task = enqueue(conn, "test_buggy")
    conn.close()
    done = run_to_end(app, task["id"])
    assert done["status"] == "failed" and done["attempts"] == 1 and calls == [1]
    # Readable for the dashboard, with no Python internals (the log has the traceback).
    assert done["error"] == "The job stopped on an unexpected error; resume it to try again."
