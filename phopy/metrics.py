"""Prometheus metrics (prometheus_client), right under several gunicorn workers.

With ``PROMETHEUS_MULTIPROC_DIR`` set before the first import (start.sh and
``phopy/gunicorn_conf.py`` do it), every process writes its counters to files
there and a scrape adds them up. Numbers that live in the database (queue
depth, oldest pending task) are read at scrape time, so every worker answers
the same. Plain Python: no Flask here, so the job runner can count too.

Every label value that comes from a request is one of a fixed set (the
app's endpoints, the standard methods, the HTTP status codes); anything else
is counted as ``other``, so no client can create new series.
"""
import os
import time
from datetime import datetime
from http import HTTPStatus

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter,
                               Histogram, generate_latest)
from prometheus_client.core import GaugeMetricFamily

HTTP_REQUESTS = Counter("phopy_http_requests_total", "HTTP requests by endpoint and status.",
                        ["endpoint", "method", "status"])
HTTP_SECONDS = Histogram("phopy_http_request_seconds", "Time to answer a request.",
                         ["endpoint"])
SEARCH_SECONDS = Histogram("phopy_search_seconds", "Time of one selfie search, faces included.",
                           buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32))
SEARCHES = Counter("phopy_searches_total", "Selfie searches by outcome.", ["outcome"])
PHOTOS_INDEXED = Counter("phopy_photos_indexed_total", "Photos scanned for faces by result.",
                         ["status"])
FACES_FOUND = Counter("phopy_faces_found_total", "Faces found in indexed photos.")
INDEX_PHOTO_SECONDS = Histogram("phopy_index_photo_seconds",
                                "Indexing time per photo (wall time between photos).",
                                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16))
TASK_FAILURES = Counter("phopy_task_failures_total", "Background tasks that failed.", ["kind"])
DRIVE_CALLS = Counter("phopy_drive_calls_total", "Google Drive API calls by outcome.",
                      ["outcome"])
LINE_CALLS = Counter("phopy_line_calls_total", "LINE API calls by outcome.", ["outcome"])

HTTP_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
HTTP_STATUSES = frozenset(str(int(s)) for s in HTTPStatus)
OTHER = "other"

# The names a dashboard may use (a test checks monitoring/ against these).
DB_METRICS = ("phopy_queue_depth", "phopy_queue_oldest_pending_seconds", "phopy_tasks",
              "phopy_photos_scanned", "phopy_faces_stored")


def count_request(endpoint, method, status, seconds=None):
    """Count one answered request; ``endpoint`` is the matched route's name (or None).

    Method and status outside the fixed sets become ``other``; the endpoint
    comes from the app's own URL map, never from the path.
    """
    method = method if method in HTTP_METHODS else OTHER
    status = str(status) if str(status) in HTTP_STATUSES else OTHER
    endpoint = endpoint if isinstance(endpoint, str) and endpoint else "unmatched"
    HTTP_REQUESTS.labels(endpoint, method, status).inc()
    if seconds is not None:
        HTTP_SECONDS.labels(endpoint).observe(seconds)


class PhotoTimer:
    """An ``on_photo`` callback for indexing: counts photos and faces, times each photo."""

    def __init__(self):
        self.last = time.monotonic()

    def __call__(self, photo, analysis, error):
        now = time.monotonic()
        INDEX_PHOTO_SECONDS.observe(now - self.last)
        self.last = now
        if error:
            PHOTOS_INDEXED.labels("error").inc()
            return
        faces = len(analysis.faces) if analysis is not None else 0
        PHOTOS_INDEXED.labels("indexed" if faces else "no_faces").inc()
        FACES_FOUND.inc(faces)


SALES_STATUSES = ("pending", "paid", "refunded", "expired", "rejected")


class DatabaseCollector:
    """Gauges read from the database at scrape time."""

    def __init__(self, database):
        self.database = database

    def collect(self):
        from phopy.data import health as health_db
        from phopy.data import sales as sales_db
        conn = self.database.connect()
        try:
            depth, oldest = health_db.queue_stats(conn)
            tasks = health_db.task_counts(conn)
            scans, faces = health_db.scan_counts(conn)
            sales = {status: (n, amount) for status, n, amount in sales_db.totals_by_status(conn)}
        finally:
            conn.close()
        yield GaugeMetricFamily("phopy_queue_depth", "Tasks waiting to run.", value=depth)
        age = 0.0
        if oldest:
            age = max(0.0, time.time() - datetime.fromisoformat(oldest).timestamp())
        yield GaugeMetricFamily("phopy_queue_oldest_pending_seconds",
                                "Age of the oldest waiting task.", value=age)
        family = GaugeMetricFamily("phopy_tasks", "Tasks by status.", labels=["status"])
        for status in ("pending", "running", "completed", "failed"):
            family.add_metric([status], tasks.get(status, 0))
        yield family
        family = GaugeMetricFamily("phopy_photos_scanned", "Stored photos by scan result.",
                                   labels=["status"])
        for status in ("indexed", "no_faces", "error"):
            family.add_metric([status], scans.get(status, 0))
        yield family
        yield GaugeMetricFamily("phopy_faces_stored", "Faces stored in the database.",
                                value=faces)
        orders = GaugeMetricFamily("phopy_sales_orders", "Photo orders by status.",
                                   labels=["status"])
        amounts = GaugeMetricFamily("phopy_sales_amount_satang",
                                    "Sum of photo orders by status, in satang (THB).",
                                    labels=["status"])
        for status in SALES_STATUSES:
            n, amount = sales.get(status, (0, 0))
            orders.add_metric([status], n)
            amounts.add_metric([status], amount)
        yield orders
        yield amounts


class _ThisProcess:
    def collect(self):
        return REGISTRY.collect()


def render(database):
    """(body, content type) of a scrape: every worker's counters plus database gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(database))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_process_dead(pid):
    """Tell multiprocess mode that a worker exited (gunicorn's child_exit hook)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(pid)
