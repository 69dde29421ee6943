"""Background jobs: a registry of job kinds, a queue of task rows, runners, a schedule.

- ``phopy.jobs.registry``: job kinds by name (registered in ``phopy.jobs.kinds``).
- ``phopy.jobs.queue.enqueue``: how views and services start work.
- ``phopy.jobs.runner.TaskRunner``: the in-process runner (``JOB_RUNNER=thread``).
- ``phopy.jobs.celery_app``: the same jobs on Celery workers (``JOB_RUNNER=celery``);
  ``phopy.jobs.worker`` is the ``celery -A`` entry.
- ``phopy.jobs.schedule``: periodic jobs, declared once.
"""
import click
from flask import current_app
from flask.cli import with_appcontext


def make_runner(app):
    """A TaskRunner configured from the app."""
    from phopy.data import get_database
    from phopy.extensions import get_engine_settings, get_storage
    from phopy.jobs.runner import TaskRunner
    return TaskRunner(
        get_database(app), get_storage(app), get_engine_settings(app),
        config=app.config,
        processes=app.config["INDEX_WORKERS"] or None,
        batch_size=app.config["INDEX_BATCH_SIZE"],
        poll_seconds=app.config["TASK_POLL_SECONDS"],
        stale_seconds=app.config["TASK_STALE_SECONDS"])


def start_runner(app):
    """Start the in-process runner when JOB_RUNNER is 'thread' (once per process)."""
    if app.config["JOB_RUNNER"] != "thread":
        return None
    runner = app.extensions.get("phopy_runner")
    if runner is None:
        runner = app.extensions["phopy_runner"] = make_runner(app).start()
    return runner


@click.command("run-worker")
@with_appcontext
def run_worker_command():
    """Run the job runner in this process until interrupted."""
    runner = make_runner(current_app._get_current_object())
    click.echo(f"Phopy job runner {runner.runner_id}: waiting for tasks (Ctrl+C to stop)")
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop()


def init_app(app):
    """Register the job CLI commands; under JOB_RUNNER=celery, the Celery app."""
    app.cli.add_command(run_worker_command)
    if app.config["JOB_RUNNER"] == "celery":
        from phopy.jobs.celery_app import init_celery
        init_celery(app)
