"""Gunicorn settings: ``gunicorn -c python:phopy.gunicorn_conf phopy.wsgi:app``.

Prepares prometheus_client's multiprocess folder (PROMETHEUS_MULTIPROC_DIR,
emptied at start) so GET /metrics adds up every worker's counters.
"""
import os
import shutil
from pathlib import Path


def _prepare_metrics_dir():
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)


_prepare_metrics_dir()


def child_exit(server, worker):
    """A worker left: its live gauges no longer count."""
    from phopy.metrics import mark_process_dead
    mark_process_dead(worker.pid)
