"""Background jobs: a registry of job kinds, a queue of task rows, runners, a schedule.

- ``phopy.jobs.registry``: ``@job("name")`` declares a job next to its function;
  ``@on_recover`` declares what a runner does after a crash.
- ``phopy.jobs.schedule``: ``periodic(...)`` declares a schedule entry, in the
  package that owns its job.
- ``phopy.jobs.queue.enqueue``: how views and services start work (by name).
- ``phopy.jobs.tasks``: task rows for views and the API (status JSON, resume, wait).
- ``phopy.jobs.liveness``: runner ids and abandoned tasks.
- ``phopy.jobs.runner.TaskRunner``: the in-process runner (``JOB_RUNNER=thread``).
- ``phopy.jobs.celery_app``: the same jobs on Celery workers (``JOB_RUNNER=celery``);
  ``phopy.jobs.worker`` is the ``celery -A`` entry.
- ``phopy.jobs.setup``: the runner and the job commands inside the Flask app.

Nothing here imports the modules that declare jobs: the factory does.
"""
