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
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - days * day))
        (logs / name).write_text(f"[{stamp}] INFO something\n")
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


def _record(message, created):
    record = logging.LogRecord("phopy.test", logging.INFO, __file__, 1, message, None, None)
    record.created = created
    return record


def test_a_slow_log_is_rolled_over_once_its_first_line_is_a_day_old(tmp_path):
    """The live file cannot hold a line much older than LOG_KEEP_DAYS: it rolls over a
    day after its first line even far below the size limit, and prune_logs then deletes
    the rolled file once it was last written LOG_KEEP_DAYS ago."""
    import os
    import time

    from phopy.logging_setup import DAY, DailyRotatingFileHandler, prune_logs
    path = tmp_path / "app.log"
    old = time.time() - 2 * DAY
    path.write_text(time.strftime("[%Y-%m-%d %H:%M:%S] INFO from two days ago\n",
                                  time.localtime(old)))
    handler = DailyRotatingFileHandler(path, maxBytes=5 * 1024 * 1024, backupCount=40,
                                       encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%Y-%m-%d %H:%M:%S"))
    try:
        now = time.time()
        handler.handle(_record("first today", now))
        handler.handle(_record("second today", now + 60))
        assert "two days ago" in (tmp_path / "app.log.1").read_text()
        live = path.read_text()
        assert "first today" in live and "second today" in live and "two days" not in live
        handler.handle(_record("an hour later", now + 3600))
        assert not (tmp_path / "app.log.2").exists()  # a young file is not rolled again
        handler.handle(_record("next day", now + DAY + 5))
        assert "next day" in path.read_text() and "first today" not in path.read_text()
        assert "first today" in (tmp_path / "app.log.1").read_text()
        assert "two days ago" in (tmp_path / "app.log.2").read_text()
    finally:
        handler.close()
    os.utime(tmp_path / "app.log.2", (old, old))
    assert prune_logs(tmp_path, 1) == ["app.log.2"]


def test_a_file_another_process_rolled_over_is_reopened(tmp_path):
    """Web workers and the runner share app.log: when one rolls it over, the others
    write to the new file (not the renamed one) and judge its age by its own first line."""
    import time

    from phopy.logging_setup import DAY, RECHECK_SECONDS, DailyRotatingFileHandler
    path = tmp_path / "app.log"
    a = DailyRotatingFileHandler(path, maxBytes=0, backupCount=40, encoding="utf-8")
    b = DailyRotatingFileHandler(path, maxBytes=0, backupCount=40, encoding="utf-8")
    for handler in (a, b):
        handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%Y-%m-%d %H:%M:%S"))
    try:
        now = time.time()
        a.handle(_record("a starts", now))
        b.handle(_record("b starts", now + 1))
        a.handle(_record("a next day", now + DAY + 1))  # a rolls the file over
        assert "b starts" in (tmp_path / "app.log.1").read_text()
        b.handle(_record("b later", now + DAY + RECHECK_SECONDS + 2))
        live = path.read_text()
        assert "a next day" in live and "b later" in live
        assert not (tmp_path / "app.log.2").exists()  # b saw a young file, did not roll it
    finally:
        a.close()
        b.close()
