"""``celery -A tests.jobs.celery_test_worker``: Phopy's worker plus one test job kind
and one test follow-up of indexing (``tests.jobs.indexing_hook``).

The kind is declared through the real registry's decorator before the worker's
app is built; everything else is ``phopy.jobs.worker`` unchanged.
"""
from phopy.jobs.registry import job
from tests.jobs import indexing_hook  # noqa: F401  (declares its after_indexing follow-up)
from tests.jobs.flaky_job import flaky

job("test_flaky", max_attempts=5)(flaky)

from phopy.jobs.worker import celery, flask_app  # noqa: E402,F401
