"""GET /metrics of a real gunicorn server: no request can add a series (issue 19 #10)."""
import secrets
import socket

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.live_server import LiveServer

pytestmark = pytest.mark.slow
TOKEN = "metrics-test-token"


def raw_request(server, method, path):
    """Send one request with any method (requests would refuse some), return the status."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n".encode())
        head = sock.recv(200).decode("latin-1")
    return int(head.split()[1]) if head.startswith("HTTP/") else None


def request_series(server):
    text = requests.get(server.url + "/metrics", timeout=10,
                        headers={"Authorization": f"Bearer {TOKEN}"}).text
    series = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("phopy_http_requests_total",
                               "phopy_http_request_seconds_count"):
                series.add((sample.name, tuple(sorted(sample.labels.items()))))
    return series


def test_made_up_methods_paths_and_headers_add_no_series(tmp_path):
    with LiveServer(tmp_path, METRICS_TOKEN=TOKEN) as server:
        for path in ("/", "/events", "/nope", "/e/NOPE12"):  # the ordinary answers
            requests.get(server.url + path, timeout=10)
        baseline = request_series(server)
        statuses = set()
        for i in range(150):
            method = "X" + secrets.token_hex(4).upper().replace("0", "Q")
            path = ["/", f"/nope-{secrets.token_hex(4)}", "/e/NOPE12", "/metrics",
                    f"/p/{secrets.token_hex(8)}/download"][i % 5]
            statuses.add(raw_request(server, method, path))
        for i in range(50):  # real methods on made-up paths
            method = ["GET", "POST", "DELETE", "PATCH", "OPTIONS"][i % 5]
            statuses.add(raw_request(server, method, f"/made-up/{secrets.token_hex(6)}"))
        assert statuses & {400, 404, 405, 501}, statuses  # the server did answer them
        after = request_series(server)
    new = after - baseline
    labels = [dict(s[1]) for s in after]
    assert {l["method"] for l in labels if "method" in l} <= {
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    # 200 requests with 150 made-up methods and 200 made-up paths: a handful of new
    # series at most (method "other" or a real method × the few statuses × "unmatched").
    assert len(new) <= 20, sorted(new)
    assert all(len(v) < 40 for l in labels for v in l.values())
