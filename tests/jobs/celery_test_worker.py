"""``celery -A tests.jobs.celery_test_worker``: Phopy's worker plus one test job kind.

The kind is registered through the real registry before the worker's app is
built; everything else is ``phopy.jobs.worker`` unchanged.
"""
from phopy.jobs.registry import register
from tests.jobs.flaky_job import flaky

register("test_flaky", flaky, max_attempts=5)

from phopy.jobs.worker import celery, flask_app  # noqa: E402,F401
