"""The REST API, /health and /metrics on a real gunicorn with 2 workers (multiprocess metrics)."""
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import ENGINE_NAMES, database_url_for
from tests.web.api_helpers import bearer, make_key
from tests.web.test_ops import metric_value

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, faces_dir):
    root = tmp_path_factory.mktemp("api-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PHOPY_DATA_DIR=str(root / "data"), LOG_DIR=str(root / "logs"),
               SECRET_KEY="api-test", PUBLIC_BASE_URL=url, DATABASE_URL=database_url_for(root),
               JOB_RUNNER="thread",
               INDEX_WORKERS="1", TASK_POLL_SECONDS="0.3", FLASK_DEBUG="0",
               METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(root / "metrics"),
               RATELIMIT_ENABLED="0")
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:phopy.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120", "phopy.wsgi:app"],
        cwd=REPO_ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start:\n" + (root / "server.log").read_text()[-3000:])
            try:
                if requests.get(url + "/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not up yet, or busy starting
                pass
            time.sleep(0.2)
        from phopy import create_app
        from tests.conftest import make_photographer, make_test_config
        app = create_app(make_test_config(root, DATA_DIR=str(root / "data"), PUBLIC_BASE_URL=url))
        user = make_photographer(app)
        other = make_photographer(app, "bob@example.com")
        yield {"url": url, "h": bearer(make_key(app, user["id"])[1]),
               "other": bearer(make_key(app, other["id"])[1]), "metrics": root / "metrics"}
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def scrape(server):
    response = requests.get(server["url"] + "/metrics", headers=bearer(TOKEN), timeout=10)
    assert response.status_code == 200
    return response.text


def test_health_and_protected_metrics(server):
    body = requests.get(server["url"] + "/health", timeout=10).json()
    assert body["status"] == "ok" and set(body["checks"]) == {"database", "storage", "jobs"}
    assert requests.get(server["url"] + "/metrics", timeout=10).status_code == 401


def test_request_counts_add_up_across_two_workers(server):
    label = {"endpoint": "api_v1.list_events", "method": "GET", "status": "200"}
    before = metric_value(scrape(server), "phopy_http_requests_total", **label)

    def call(_):
        with requests.Session() as session:
            return session.get(server["url"] + "/api/events", headers=server["h"],
                               timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(call, range(60)))
    assert statuses == [200] * 60
    after = scrape(server)
    assert metric_value(after, "phopy_http_requests_total", **label) - before == 60
    pids = {p.stem.rsplit("_", 1)[-1] for p in server["metrics"].glob("counter_*.db")}
    assert len(pids) >= 2, pids  # both workers counted, and the scrape added them up


def test_walkthrough_create_upload_search_obama(server, faces_dir, engine_for):
    url, h = server["url"], server["h"]
    event = requests.post(url + "/api/events", headers=h, json={"name": "Press Day"},
                          timeout=30).json()
    group = faces_dir / "group_photos"
    files = [("photos", (n, (group / n).read_bytes(), "image/jpeg"))
             for n in ("fr_two_people.jpg", "fr_obama_and_biden.jpg", "fr_kit_with_rose.jpg")]
    upload = requests.post(f"{url}/api/events/{event['id']}/photos", headers=h, files=files,
                           timeout=120)
    assert upload.status_code == 200, upload.text
    task_id = upload.json()["task"]["id"]
    deadline = time.monotonic() + 180
    while True:
        task = requests.get(f"{url}/api/tasks/{task_id}", headers=h, timeout=30).json()
        if task["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # as many faces as the server's engine (the default) finds in those photos here
    default, _pool = engine_for(ENGINE_NAMES[0])
    expected = sum(len(default.analyze_photo(group / f[1][0]).faces) for f in files)
    assert expected >= 7  # the two pairs and the kit photo's people, at least
    assert task["status"] == "completed" and task["faces_found"] == expected
    assert requests.get(f"{url}/api/tasks/{task_id}", headers=server["other"],
                        timeout=30).status_code == 404
    selfie = faces_dir / "face_recognition_examples" / "obama.jpg"
    found = requests.post(url + "/api/search-face", data={"event_code": event["code"]},
                          files=[("selfies", ("obama.jpg", selfie.read_bytes(), "image/jpeg"))],
                          timeout=120)
    assert found.status_code == 200, found.text
    assert {p["filename"] for p in found.json()["photos"]} == {"fr_two_people.jpg",
                                                               "fr_obama_and_biden.jpg"}
    photo = requests.get(url + found.json()["photos"][0]["download_url"], timeout=30)
    assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"
    photos = requests.get(f"{url}/api/events/{event['id']}/photos?per_page=2", headers=h,
                          timeout=30).json()
    assert photos["total"] == 3 and photos["pages"] == 2
    assert {p["status"] for p in photos["items"]} == {"indexed"}
    stats = requests.get(f"{url}/api/events/{event['id']}/analytics", headers=h,
                         timeout=30).json()
    assert stats["searches"] == 1 and stats["downloads"] == 1
    changed = requests.patch(f"{url}/api/events/{event['id']}", headers=h,
                             json={"is_listed": True}, timeout=30)
    assert changed.status_code == 200 and changed.json()["is_listed"] is True
    assert requests.get(url + "/api/events", headers=h, timeout=30).json()["total"] == 1
    public = requests.get(f"{url}/api/public/events/{event['code']}", timeout=30).json()
    assert public["name"] == "Press Day" and public["indexing_complete"] is True
    queued = requests.post(f"{url}/api/events/{event['id']}/index", headers=h, timeout=30)
    assert queued.status_code == 202 and queued.json()["event_id"] == event["id"]
    assert requests.get(url + "/api/openapi.json", timeout=30).json()["openapi"] == "3.0.3"
    assert requests.get(url + "/api/docs", timeout=30).status_code == 200
    text = scrape(server)
    assert metric_value(text, "phopy_photos_indexed_total", status="indexed") == 3
    assert metric_value(text, "phopy_faces_found_total") == expected
    assert metric_value(text, "phopy_search_seconds_count") == 1
    assert requests.delete(f"{url}/api/events/{event['id']}", headers=server["other"],
                           timeout=30).status_code == 404
    assert requests.delete(f"{url}/api/events/{event['id']}", headers=h,
                           timeout=30).status_code == 204
    assert requests.get(f"{url}/api/events/{event['id']}", headers=h,
                        timeout=30).status_code == 404
