"""The jobs layer inside the Flask app: build and start the runner, the job commands.

Only the factory (``phopy.create_app``) and the entry points (``phopy.wsgi``,
``phopy.jobs.worker``, the CLI) use this module; importing ``phopy.jobs.queue``
or ``phopy.jobs.registry`` pulls in no Flask.
"""
import os

import click
from flask import current_app
from flask.cli import with_appcontext


def _children_find_phopy():
    """Let the face pool's spawned processes import phopy however this process
    started (the ``flask`` and ``celery`` commands put the project on sys.path
    themselves, which spawned children do not inherit)."""
    from phopy.config import REPO_ROOT
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO_ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + paths)


def make_runner(app):
    """A TaskRunner configured from the app."""
    _children_find_phopy()
    from phopy.data import get_database
    from phopy.extensions import get_engine_settings, get_search_cache, get_storage
    from phopy.jobs.runner import TaskRunner
    return TaskRunner(
        get_database(app), get_storage(app), get_engine_settings(app),
        config=app.config, search_cache=get_search_cache(app),
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
    from phopy.jobs.checks import StartRefused, check_start
    app = current_app._get_current_object()
    try:
        check_start(app, "worker")
    except StartRefused as exc:
        raise click.ClickException(str(exc)) from None
    runner = make_runner(app)
    click.echo(f"Phopy job runner {runner.runner_id}: waiting for tasks (Ctrl+C to stop)")
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop()


def check_services(config, database):
    """[(what, problem or None)] for the database and, when used, Redis."""
    from urllib.parse import urlsplit
    results = []
    shown = urlsplit(config["DATABASE_URL"])
    where = (config["DATABASE_URL"] if shown.scheme.startswith("sqlite") else  # no password
             f"{shown.scheme}://{shown.hostname or ''}{':' + str(shown.port) if shown.port else ''}"
             f"{shown.path}")
    try:
        conn = database.connect()
        try:
            conn.scalar("SELECT 1")
        finally:
            conn.close()
        results.append((f"database {where}", None))
    except Exception as exc:  # any driver error: say what it was
        results.append((f"database {where}", str(exc).strip().splitlines()[0]))
    if config.get("REDIS_URL") or config["JOB_RUNNER"] == "celery":
        url = config.get("REDIS_URL")
        if not url:
            results.append(("Redis", "REDIS_URL is not set"))
        else:
            import redis
            try:
                redis.Redis.from_url(url, socket_connect_timeout=3).ping()
                results.append((f"Redis {url.split('@')[-1]}", None))
            except Exception as exc:
                results.append((f"Redis {url.split('@')[-1]}", str(exc)))
    return results


@click.command("check-services")
@with_appcontext
def check_services_command():
    """Check that the database (and Redis, when used) can be reached."""
    from phopy.data import get_database
    failed = False
    for what, problem in check_services(current_app.config, get_database()):
        if problem:
            failed = True
            click.echo(f"Cannot reach {what}: {problem}", err=True)
        else:
            click.echo(f"OK: {what}")
    if failed:
        raise SystemExit(1)


def init_app(app):
    """Check the declared jobs and schedule, register the job CLI commands; under
    JOB_RUNNER=celery, make the Celery app (its Beat schedule from the declared entries).

    Called by the factory after every feature has declared its jobs."""
    from phopy.jobs import registry, schedule
    schedule.check(registry.kinds())
    app.cli.add_command(run_worker_command)
    app.cli.add_command(check_services_command)
    if app.config["JOB_RUNNER"] == "celery":
        from phopy.jobs.celery_app import init_celery
        init_celery(app, make_runner)
