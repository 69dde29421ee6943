"""Background jobs: the runner that indexes events off the request."""
import click
from flask.cli import with_appcontext
from flask import current_app

from phopy.jobs.runner import TaskRunner


def make_runner(app):
    """A TaskRunner configured from the app."""
    from phopy.extensions import get_engine_settings, get_storage
    from phopy.data import get_database
    return TaskRunner(
        get_database(app), get_storage(app), get_engine_settings(app),
        processes=app.config["INDEX_WORKERS"] or None,
        batch_size=app.config["INDEX_BATCH_SIZE"],
        poll_seconds=app.config["TASK_POLL_SECONDS"],
        stale_seconds=app.config["TASK_STALE_SECONDS"],
        auto_index=app.config["AUTO_INDEX"],
        orphan_grace_seconds=app.config["ORPHAN_GRACE_SECONDS"])


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
    """Register the job CLI commands."""
    app.cli.add_command(run_worker_command)
