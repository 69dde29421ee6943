"""Operator commands: ``flask --app app <command>``."""
import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask import current_app

from phopy.data import get_database
from phopy.errors import PhopyError
from phopy.extensions import get_storage
from phopy.jobs import tasks


def _conn():
    return get_database().connect()


def _fail(exc):
    raise click.ClickException(exc.message)


@click.command("create-photographer")
@with_appcontext
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters (asked for when not given).")
@click.option("--name", default=None, help="Display name.")
def create_photographer_command(email, password, name):
    """Create a photographer account."""
    from phopy.services import accounts
    conn = _conn()
    try:
        user = accounts.register(conn, email, password, name)
    except PhopyError as exc:
        _fail(exc)
    finally:
        conn.close()
    click.echo(json.dumps({"id": user["id"], "email": user["email"]}))


@click.command("create-event")
@with_appcontext
@click.argument("name")
@click.option("--owner", required=True, help="The photographer's email.")
@click.option("--date", "event_date", default=None, help="YYYY-MM-DD")
@click.option("--location", default=None)
@click.option("--description", default=None)
@click.option("--listed", is_flag=True, help="List the event on /events.")
def create_event_command(name, owner, event_date, location, description, listed):
    """Create an event; print {id, code, url} as JSON."""
    from phopy.services import accounts, events
    conn = _conn()
    try:
        user = accounts.get_by_email(conn, owner)
        if not user:
            raise click.ClickException(f"No photographer with email {owner}")
        base = current_app.config["PUBLIC_BASE_URL"]
        event = events.create_event(conn, get_storage(), user["id"], name, base_url=base,
                                    event_date=event_date, location=location,
                                    description=description, is_listed=listed)
    except PhopyError as exc:
        _fail(exc)
    finally:
        conn.close()
    click.echo(json.dumps({"id": event["id"], "code": event["code"],
                           "url": events.public_url(base, event["code"])}))


def _run_here_or_wait(conn, task):
    """Run queued tasks in this process; wait if another runner has this one."""
    from phopy.jobs.setup import make_runner
    make_runner(current_app._get_current_object()).run_until_idle()
    return tasks.wait_for_task(conn, task["id"])


@click.command("import-folder")
@with_appcontext
@click.argument("event_id")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--wait", is_flag=True, help="Index the photos before returning.")
@click.option("--no-index", is_flag=True, help="Only store the photos.")
def import_folder_command(event_id, folder, wait, no_index):
    """Import every photo in FOLDER into EVENT_ID; print a JSON summary."""
    from phopy.services import events, indexing, photos
    from phopy.sources import FolderSource
    conn = _conn()
    cfg = current_app.config
    try:
        events.get_event(conn, event_id)
        summary = photos.import_items(conn, get_storage(), event_id, FolderSource(folder).items(),
                                      max_bytes=cfg["MAX_PHOTO_BYTES"],
                                      thumb_side=cfg["THUMBNAIL_MAX_SIDE"], source="folder")
        out = summary.as_dict()
        out.pop("photo_ids")
        task = None if no_index else indexing.enqueue_indexing(conn, event_id)
        out["task_id"] = task["id"] if task else None
        if task and wait:
            task = _run_here_or_wait(conn, task)
            out["task"] = tasks.task_json(task, cfg["TASK_STALE_SECONDS"])
            out["index"] = indexing.checkpoint_status(conn, event_id)
    except PhopyError as exc:
        _fail(exc)
    finally:
        conn.close()
    click.echo(json.dumps(out, indent=2))


@click.command("reindex")
@with_appcontext
@click.argument("event_id")
@click.option("--wait", is_flag=True, help="Index before returning.")
def reindex_command(event_id, wait):
    """Forget an event's faces and index all its photos again."""
    from phopy.services import events, indexing
    conn = _conn()
    try:
        events.get_event(conn, event_id)
        task = indexing.reindex_event(conn, event_id)
        if wait:
            task = _run_here_or_wait(conn, task)
        click.echo(json.dumps(tasks.task_json(task, current_app.config["TASK_STALE_SECONDS"])))
    except PhopyError as exc:
        _fail(exc)
    finally:
        conn.close()


@click.command("search")
@with_appcontext
@click.argument("event_id")
@click.argument("selfies", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def search_command(event_id, selfies):
    """Search EVENT_ID with 1–3 selfie files; print the API's JSON."""
    from phopy.data import get_db
    from phopy.services import events
    from phopy.web.results import run_search, search_json
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["PUBLIC_BASE_URL"]):
        try:
            event = events.get_event(get_db(), event_id)
            result, rows = run_search(event, [(p.name, p.read_bytes()) for p in selfies])
        except PhopyError as exc:
            _fail(exc)
        click.echo(json.dumps(search_json(result, rows), indent=2))


@click.command("copy-storage")
@with_appcontext
@click.option("--from-dir", "from_dir", default=None,
              help="The data folder to copy from (default: PHOPY_DATA_DIR).")
def copy_storage_command(from_dir):
    """Copy every photo, thumbnail, banner and QR code from the data folder into the S3
    bucket named by the S3_* settings, and verify each one (safe to run again)."""
    from phopy.storage import FileStorage, all_prefixes, make_storage
    config = current_app.config
    source = FileStorage(from_dir or config["DATA_DIR"])
    try:
        target = make_storage({**config, "STORAGE_BACKEND": "s3"})
        target.check()
    except (ValueError, PhopyError) as exc:
        raise click.ClickException(f"Cannot use the S3 settings: {getattr(exc, 'message', exc)}")
    from phopy.storage.copy import copy_all
    report = copy_all(source, target, all_prefixes())
    click.echo(json.dumps(report))
    if report["failed"]:
        raise click.ClickException(f"{len(report['failed'])} objects did not verify; run again")


def init_app(app):
    """Register the operator commands."""
    for command in (create_photographer_command, create_event_command, import_folder_command,
                    reindex_command, search_command, copy_storage_command):
        app.cli.add_command(command)
