"""Browser tests: Debian's chromium, driven by Playwright, against a real Phopy server.

The server is gunicorn on 127.0.0.1 with the in-process job runner, on a temp
data folder. Screenshots of every step go to ``test-artifacts/screenshots/``
(or ``$PHOPY_ARTIFACTS_DIR/screenshots``) and are listed at the end of the run.
Without /usr/bin/chromium the tests skip, unless PHOPY_REQUIRE_BROWSER=1 (CI),
which makes that a failure.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from phopy.config import REPO_ROOT
from tests.conftest import database_url_for

CHROMIUM = Path(os.environ.get("PHOPY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 780}
SHOTS = []


def artifacts_dir():
    """Where screenshots and downloads of the browser run are kept."""
    return Path(os.environ.get("PHOPY_ARTIFACTS_DIR") or REPO_ROOT / "test-artifacts")


def require_chromium():
    """Skip (fail under PHOPY_REQUIRE_BROWSER=1) when chromium or Playwright is missing."""
    problem = None
    if not CHROMIUM.exists():
        problem = (f"chromium not found at {CHROMIUM}: install Debian's chromium "
                   "(apt-get install chromium; ./test.sh does it) to run the browser tests")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is not installed (requirements-dev.txt)"
    if problem:
        if os.environ.get("PHOPY_REQUIRE_BROWSER") == "1":
            pytest.fail(problem + " (PHOPY_REQUIRE_BROWSER=1 makes this an error)")
        pytest.skip(problem)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    if SHOTS:
        terminalreporter.section("browser screenshots")
        for path in SHOTS:
            terminalreporter.write_line(str(path))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn serving phopy.wsgi:app on a temp data folder."""

    def __init__(self, root):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = root / "data"
        self.log = root / "server.log"
        self.process = None

    def env(self):
        return dict(os.environ, PHOPY_DATA_DIR=str(self.data_dir), LOG_DIR=str(self.root / "logs"),
                    SECRET_KEY="browser-test", PUBLIC_BASE_URL=self.url,
                    DATABASE_URL=database_url_for(self.root),
                    JOB_RUNNER="thread", INDEX_WORKERS="1", SEARCH_WORKERS="1",
                    TASK_POLL_SECONDS="0.5", TASK_STALE_SECONDS="60", FLASK_DEBUG="0")

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--threads", "8", "--timeout", "120", "phopy.wsgi:app"],
            cwd=REPO_ROOT, env=self.env(), start_new_session=True,
            stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def app(self):
        """An app on the server's data folder, for setting up data directly."""
        from phopy import create_app
        from tests.conftest import make_test_config
        return create_app(make_test_config(self.root, DATA_DIR=str(self.data_dir),
                                           PUBLIC_BASE_URL=self.url))


@pytest.fixture(scope="session")
def shots_dir():
    folder = artifacts_dir() / "screenshots"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def server(tmp_path_factory, faces_dir):
    require_chromium()
    srv = Server(tmp_path_factory.mktemp("browser-server")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Shooter:
    """Numbered full-page screenshots of one journey."""

    def __init__(self, folder, prefix):
        self.folder = folder
        self.prefix = prefix
        self.n = 0

    def __call__(self, page, name, full_page=True):
        self.n += 1
        path = self.folder / f"{self.prefix}-{self.n:02d}-{name}.png"
        if full_page:  # a sticky header would otherwise show mid-page
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        SHOTS.append(path)
        return path


@pytest.fixture
def shoot(request, shots_dir):
    return Shooter(shots_dir, request.node.name.replace("test_", "").split("[")[0])


@pytest.fixture
def console_errors():
    """JavaScript errors seen by a page; the test asserts none happened."""
    return []


def wait_until(page, script, timeout=20.0, interval=0.1):
    """Poll ``page.evaluate(script)`` until it is truthy (AssertionError after ``timeout`` s).

    Not ``page.wait_for_function``: its in-page polling compiles the predicate with
    ``eval``, which the pages' Content-Security-Policy (no 'unsafe-eval') may refuse.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {script}"
        time.sleep(interval)


def open_page(browser, server, console_errors, viewport, locale, **options):
    """A fresh browser context and page on the server."""
    context = browser.new_context(viewport=viewport, locale=locale, base_url=server.url,
                                  accept_downloads=True, **options)
    context.set_default_timeout(20000)
    page = context.new_page()
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    # Any Content-Security-Policy violation (a blocked inline script, style or
    # outside asset) is recorded; the journeys assert there was none.
    violations = []
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text or m.text.startswith("CSP violation")
            else None)
    page.csp_violations = violations
    csp = []
    page.on("response", lambda r: csp.append(r.headers.get("content-security-policy"))
            if r.request.resource_type == "document" else None)
    page.csp_headers = csp
    # Every asset must come from the app itself (a LAN with no internet).
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((server.url, "data:", "blob:")) else None)
    page.outside_requests = outside
    return context, page


def assert_csp_clean(page):
    """The pages came with a Content-Security-Policy and nothing broke it."""
    assert page.csp_headers and all(h and "script-src 'self'" in h for h in page.csp_headers), \
        page.csp_headers
    assert not page.csp_violations, page.csp_violations
