"""Entry file for Celery: ``celery -A phopy.jobs.worker worker`` (and ``beat``).

Builds the Phopy app from the environment (``.env``) with the Celery runner on,
so every task runs inside its app context (``phopy.jobs.celery_app``).
"""
from phopy import create_app

flask_app = create_app({"JOB_RUNNER": "celery"})
celery_app = flask_app.extensions["celery"]
celery = celery_app
