"""``celery -A tests.jobs.celery_test_worker``: Phopy's worker plus one test job kind.

The kind is declared through the real registry's decorator before the worker's
app is built; everything else is ``phopy.jobs.worker`` unchanged.
"""
from phopy.jobs.registry import job
from tests.jobs.flaky_job import flaky

job("test_flaky", max_attempts=5)(flaky)

from phopy.jobs.worker import celery, flask_app  # noqa: E402,F401
