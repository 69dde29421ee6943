"""Gunicorn settings: ``gunicorn -c python:phopy.gunicorn_conf phopy.wsgi:app``.

Prepares prometheus_client's multiprocess folder (PROMETHEUS_MULTIPROC_DIR,
emptied at start, 0700) so GET /metrics adds up every worker's counters.
"""
import os
import shutil
from pathlib import Path


def _prepare_metrics_dir():
    """An empty folder of this user's only (0700). A symlink or file planted at the
    name is removed, never followed; a folder of another user's is refused."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        if path.stat().st_uid != os.geteuid():
            raise SystemExit(f"PROMETHEUS_MULTIPROC_DIR={folder} belongs to another user: "
                             "point it at a folder of your own (start.sh uses one in the "
                             "data folder)")
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.mkdir(mode=0o700)
    path.chmod(0o700)


_prepare_metrics_dir()


def child_exit(server, worker):
    """A worker left: its live gauges no longer count."""
    from phopy.metrics import mark_process_dead
    mark_process_dead(worker.pid)
