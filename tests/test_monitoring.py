"""monitoring/: every metric the Grafana dashboard queries is one Phopy exports."""
import json
import re
from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parent.parent / "monitoring"
SUFFIXES = ("_bucket", "_count", "_sum")


def exported_names(app):
    """(metric names, histogram names) in a scrape of the app's /metrics."""
    app.config["METRICS_TOKEN"] = "t"
    text = app.test_client().get("/metrics", headers={"Authorization": "Bearer t"}).get_data(
        as_text=True)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    return set(types), {n for n, t in types.items() if t == "histogram"}


def test_every_dashboard_metric_exists(app):
    dashboard = json.loads((MONITORING / "grafana" / "phopy-dashboard.json").read_text())
    used = {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"\bphopy_[a-z_]+", target["expr"])}
    names, histograms = exported_names(app)
    assert len(used) >= 12
    for name in used:
        base = next((name[:-len(s)] for s in SUFFIXES if name.endswith(s)), None)
        assert name in names or base in histograms, f"{name} is not exported by /metrics"


def test_dashboard_covers_the_issue_metrics(app):
    text = (MONITORING / "grafana" / "phopy-dashboard.json").read_text()
    for name in ("phopy_http_requests_total", "phopy_search_seconds_bucket",
                 "phopy_photos_indexed_total", "phopy_faces_found_total",
                 "phopy_index_photo_seconds_sum", "phopy_queue_depth",
                 "phopy_queue_oldest_pending_seconds", "phopy_task_failures_total",
                 "phopy_drive_calls_total", "phopy_line_calls_total"):
        assert name in text


def test_prometheus_config_scrapes_metrics_with_the_token():
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert job["static_configs"][0]["targets"]
