import logging
import re

LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] (DEBUG|INFO|WARNING|ERROR) "
                  r"\[[\w.<>]+:\d+\] - .+$")


def test_app_log_gets_everything_error_log_only_errors(app, tmp_path):
    log = logging.getLogger("phopy.services.indexing")
    log.debug("debug detail")
    log.error("something broke")
    app_log = (tmp_path / "logs" / "app.log").read_text().splitlines()
    error_log = (tmp_path / "logs" / "error.log").read_text().splitlines()
    assert any("debug detail" in line for line in app_log)
    assert [line for line in app_log if "something broke" in line] and \
        len([line for line in app_log if "something broke" in line]) == 1
    assert len(error_log) == 1 and "something broke" in error_log[0]
    assert all(LINE.match(line) for line in app_log + error_log), app_log + error_log


def test_crash_is_logged_and_answered_with_500_page(app, tmp_path):
    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500 and b"<html" in response.data
    assert "kaboom" in (tmp_path / "logs" / "error.log").read_text()


def test_log_files_last_written_before_log_keep_days_are_deleted(tmp_path):
    """The deletion path of logs: at each start (and by the daily prune_logs job) a log
    file whose last line is older than LOG_KEEP_DAYS goes; newer ones and others stay."""
    import os
    import time

    from phopy import create_app
    from phopy.jobs.registry import get_kind
    from tests.conftest import make_test_config
    logs = tmp_path / "logs"
    logs.mkdir()
    day = 86400
    ages = {"app.log.3": 40, "error.log.1": 31, "app.log.1": 29, "app.log": 0,
            "notes.txt": 90}
    for name, days in ages.items():
        (logs / name).write_text("[2026-01-01 00:00:00] INFO something\n")
        old = time.time() - days * day
        os.utime(logs / name, (old, old))
    app = create_app(make_test_config(tmp_path / "a", LOG_DIR=str(logs), LOG_KEEP_DAYS=30))
    assert sorted(p.name for p in logs.iterdir()) == [
        "app.log", "app.log.1", "error.log", "notes.txt"]
    (logs / "app.log.7").write_text("old\n")
    os.utime(logs / "app.log.7", (time.time() - 45 * day,) * 2)
    from phopy.data import get_database
    from phopy.jobs.queue import enqueue
    from tests.conftest import db_rows, index_all
    conn = get_database(app).connect()
    try:
        with conn.transaction():
            enqueue(conn, "prune_logs", {})
    finally:
        conn.close()
    assert index_all(app) == 1  # the job, run by the real runner
    assert not (logs / "app.log.7").exists()
    assert (logs / "app.log.1").exists() and (logs / "notes.txt").exists()
    done = db_rows(app, "SELECT status, result FROM tasks WHERE kind = 'prune_logs'")
    assert done[0]["status"] == "completed" and "app.log.7" in done[0]["result"]
