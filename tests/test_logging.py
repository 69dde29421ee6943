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
