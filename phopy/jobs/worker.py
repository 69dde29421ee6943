"""Entry file for Celery: ``celery -A phopy.jobs.worker worker`` (and ``beat``).

Builds the Phopy app from the environment (``.env``) with the Celery runner on,
so every task runs inside its app context (``phopy.jobs.celery_app``).
"""
from phopy import create_app

flask_app = create_app({"JOB_RUNNER": "celery"})
if "celery" not in flask_app.extensions:
    raise SystemExit("JOB_RUNNER=celery needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
celery_app = flask_app.extensions["celery"]
celery = celery_app
