"""Entry file for Celery: ``celery -A phopy.jobs.worker worker`` (and ``beat``).

Builds the Phopy app from the environment (``.env``) with the Celery runner on,
so every task runs inside its app context (``phopy.jobs.celery_app``).
"""
from celery import signals

from phopy import create_app
from phopy.jobs.checks import StartRefused, check_start

flask_app = create_app({"JOB_RUNNER": "celery"})
if "celery" not in flask_app.extensions:
    raise SystemExit("JOB_RUNNER=celery needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
celery_app = flask_app.extensions["celery"]
celery = celery_app


def _refuse_unless_ready(role):
    try:
        check_start(flask_app, role)
    except StartRefused as exc:
        raise SystemExit(f"Phopy {role} cannot start: {exc}") from None


@signals.worker_init.connect
def _check_worker(**_):
    """A worker refuses a database schema or a data folder it cannot serve."""
    _refuse_unless_ready("worker")


@signals.beat_init.connect
def _check_beat(**_):
    """Beat refuses a database schema it was not written for."""
    _refuse_unless_ready("beat")
