"""GET /health and GET /metrics, the search and download logs, the analytics page."""
import os
import socket
import time
from pathlib import Path

from phopy.data import Database
from tests.conftest import (add_files, db_rows, file_upload, index_all, login, make_event,
                            make_photographer)
from tests.web.api_helpers import bearer, make_key


def start_runner(app):
    from phopy.jobs.setup import make_runner
    runner = make_runner(app)
    runner.poll_seconds = 0.1
    runner.start()
    deadline = time.monotonic() + 10
    while not db_rows(app, "SELECT * FROM runners") and time.monotonic() < deadline:
        time.sleep(0.05)
    return runner


def test_health_needs_a_live_runner_and_ready_does_not(app, client):
    response = client.get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["jobs"] and body["checks"]["database"]["ok"]
    assert body["checks"]["jobs"]["missing"] == ["workers"]
    assert "no job runner or worker has started" in body["checks"]["jobs"]["error"]
    # A load balancer asks /health/ready: no job needs to run for a web machine to serve.
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and set(ready.get_json()["checks"]) == {"database",
                                                                           "storage"}
    assert client.get("/health/live").get_json() == {"status": "ok"}
    runner = start_runner(app)
    try:
        response = client.get("/health")
        assert response.status_code == 200, response.data
        assert response.get_json()["status"] == "ok"
    finally:
        runner.stop()
    app.config["HEALTH_RUNNER_MAX_AGE"] = 0
    time.sleep(0.05)
    body = client.get("/health").get_json()
    assert body["failing"] == ["jobs"] and "heartbeat for" in body["checks"]["jobs"]["error"]


def test_health_tells_no_host_pid_or_free_space_and_writes_nothing(app, client):
    runner = start_runner(app)
    try:
        data_dir = Path(app.config["DATA_DIR"])
        def files():  # SQLite's own -wal/-shm come and go with its connections
            return sorted(p.name for p in data_dir.iterdir()
                          if not p.name.endswith(("-wal", "-shm", "-journal")))
        before = files()
        for _ in range(3):
            text = client.get("/health").get_data(as_text=True)
        assert files() == before  # no probe files
        for secret in (socket.gethostname(), str(os.getpid()), "free_mb", runner.runner_id):
            assert secret not in text
        # An operator with the metrics token sees the figures.
        app.config["METRICS_TOKEN"] = "ops-token"
        detail = client.get("/health", headers=bearer("ops-token")).get_json()
        assert detail["checks"]["storage"]["free_mb"] > 0
        assert detail["checks"]["jobs"]["workers"]["id"] == runner.runner_id
        assert "free_mb" not in client.get("/health", headers=bearer("wrong")).get_data(
            as_text=True)
    finally:
        runner.stop()


def test_heartbeat_ages_use_the_database_clock(app, client):
    from phopy.data import get_database
    from phopy.data import runners as runners_db
    conn = get_database(app).connect()
    try:
        # A machine whose clock runs an hour behind: its heartbeat is still fresh.
        runners_db.beat(conn, "w-behind", "h", 1, time.time() - 3600, role="worker")
        db_now = runners_db.database_now(conn)
        assert abs(db_now - time.time()) < 5
        row = runners_db.latest(conn, ("worker",))
        assert row["id"] == "w-behind" and 0 <= row["age"] < 5
    finally:
        conn.close()
    assert client.get("/health").status_code == 200


def test_health_names_each_failing_part(app, client, tmp_path):
    runner = start_runner(app)
    try:
        app.config["HEALTH_MIN_FREE_MB"] = 10 ** 12
        body = client.get("/health").get_json()
        assert body["failing"] == ["storage"] and body["checks"]["storage"]["error"]
        assert client.get("/health/ready").status_code == 503
        app.config["HEALTH_MIN_FREE_MB"] = 1
        app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens on port 9
        body = client.get("/health").get_json()
        assert body["failing"] == ["redis"]
        assert body["checks"]["redis"]["error"] == "ConnectionError"
        app.config["REDIS_URL"] = None
        real_db = app.extensions["phopy_db"]
        app.extensions["phopy_db"] = Database(f"sqlite:///{tmp_path}")  # a folder: cannot open
        response = client.get("/health/ready")
        app.extensions["phopy_db"] = real_db
        assert response.status_code == 503 and "database" in response.get_json()["failing"]
    finally:
        runner.stop()
    real_storage = app.extensions["phopy_storage"]
    from phopy.storage import FileStorage
    gone = FileStorage(tmp_path / "gone")
    gone.root.rmdir()  # the share is not mounted any more
    app.extensions["phopy_storage"] = gone
    try:
        body = client.get("/health/ready").get_json()
        assert body["failing"] == ["storage"] and body["checks"]["storage"]["error"] == \
            "StorageUnavailable"
    finally:
        app.extensions["phopy_storage"] = real_storage


def test_metrics_are_off_without_a_token_and_need_it(app, client):
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer("wrong")).status_code == 401
    response = client.get("/metrics", headers=bearer("s3cret-token"))
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    for name in ("phopy_http_requests_total", "phopy_queue_depth", "phopy_tasks"):
        assert name in text


def metric_value(text, name, **labels):
    """The value of one sample in Prometheus text format (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_indexing_and_search_show_in_metrics_and_the_search_log(face_app, faces_dir):
    app, client = face_app, face_app.test_client()
    app.config["METRICS_TOKEN"] = "t"
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Press Day")
    before = client.get("/metrics", headers=bearer("t")).get_data(as_text=True)
    add_files(app, event["id"], [faces_dir / "group_photos" / "fr_two_people.jpg",
                                 faces_dir / "group_photos" / "fr_kit_with_rose.jpg"])
    queued = client.get("/metrics", headers=bearer("t")).get_data(as_text=True)
    assert metric_value(queued, "phopy_queue_depth") == 1
    assert metric_value(queued, "phopy_queue_oldest_pending_seconds") >= 0
    index_all(app)
    selfie = faces_dir / "face_recognition_examples" / "obama.jpg"
    for _ in range(2):
        client.post("/api/search-face", data={"event_id": event["id"],
                                              "selfies": [file_upload(selfie)]},
                    content_type="multipart/form-data")
    after = client.get("/metrics", headers=bearer("t")).get_data(as_text=True)
    grew = {name: metric_value(after, name, **labels) - metric_value(before, name, **labels)
            for name, labels in (("phopy_photos_indexed_total", {"status": "indexed"}),
                                 ("phopy_faces_found_total", {}),
                                 ("phopy_index_photo_seconds_count", {}),
                                 ("phopy_search_seconds_count", {}),
                                 ("phopy_searches_total", {"outcome": "found"}))}
    assert grew == {"phopy_photos_indexed_total": 2, "phopy_faces_found_total": 4,
                    "phopy_index_photo_seconds_count": 2, "phopy_search_seconds_count": 2,
                    "phopy_searches_total": 2}
    assert metric_value(after, "phopy_queue_depth") == 0
    assert metric_value(after, "phopy_faces_stored") == 4
    assert metric_value(after, "phopy_http_requests_total", endpoint="api_v1.search_face",
                        method="POST", status="200") >= 2


def test_analytics_page_and_numbers(face_app, faces_dir):
    app, client = face_app, face_app.test_client()
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Press Day")
    add_files(app, event["id"], [faces_dir / "group_photos" / n for n in
                                 ("fr_two_people.jpg", "fr_obama_and_biden.jpg",
                                  "fr_kit_with_rose.jpg")])
    index_all(app)
    examples = faces_dir / "face_recognition_examples"
    bodies = [client.post("/api/search-face", data={"event_id": event["id"],
                                                    "selfies": [file_upload(examples / n)]},
                          content_type="multipart/form-data").get_json()
              for n in ("obama.jpg", "biden.jpg", "obama2.jpg")]
    no_face = client.post("/api/search-face", data={"event_id": event["id"], "selfies": [
        file_upload(sorted((faces_dir / "no_faces").glob("*.jpg"))[0])]},
        content_type="multipart/form-data")
    assert no_face.status_code == 422
    assert client.get(bodies[0]["photos"][0]["download_url"]).status_code == 200
    assert client.get(bodies[0]["photos"][0]["thumbnail_url"]).status_code == 200  # not counted
    key = make_key(app, owner["id"])[1]
    stats = client.get(f"/api/events/{event['id']}/analytics", headers=bearer(key)).get_json()
    assert stats["searches"] == 4 and stats["searches_with_photos"] == 3
    assert stats["found_share"] == 0.75 and stats["downloads"] == 1
    assert sum(h["searches"] for h in stats["searches_per_hour"]) == 4
    top = {p["filename"]: p["found"] for p in stats["top_photos"]}
    assert top["fr_two_people.jpg"] == 3 and "fr_kit_with_rose.jpg" not in top
    assert sum(m["photos"] for m in stats["indexing_per_minute"]) == 3
    login(client)
    page = client.get(f"/dashboard/events/{event['id']}/analytics")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "js/vendor/chart.umd.min.js" in html and "js/analytics.js" in html
    assert "<script>" not in html.split("</head>")[1]
    assert client.get("/static/js/vendor/chart.umd.min.js").status_code == 200
    bob = make_photographer(app, "bob@example.com")
    other = make_event(app, bob["id"], "Bob's day")
    assert client.get(f"/dashboard/events/{other['id']}/analytics").status_code == 404


def test_health_pings_a_real_redis(app, client, tmp_path):
    import shutil
    import socket
    import subprocess
    import pytest
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed (the Celery set-up installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL)
    runner = start_runner(app)
    try:
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while (body := client.get("/health").get_json())["failing"] and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        assert body["failing"] == [] and body["checks"]["redis"] == {"ok": True}
    finally:
        runner.stop()
        process.terminate()
        process.wait(10)
