"""What the photographer's views share: their own event, and "started, here is the task"."""
from flask import current_app, flash, g, jsonify, redirect, url_for

from phopy.data import get_db
from phopy.jobs import tasks
from phopy.services import events
from phopy.web.errors import wants_json


def owned_event(event_id):
    """The signed-in photographer's event, or NotFound (another's looks like none)."""
    return events.get_owned_event(get_db(), event_id, g.photographer["id"])


def task_started(task, message, event_id):
    """Answer a request that queued ``task``: its JSON (202) for scripts, else flash
    ``message`` and go back to the event page."""
    if wants_json():
        return jsonify(tasks.task_json(task, current_app.config["TASK_STALE_SECONDS"])), 202
    flash(message, "success")
    return redirect(url_for("dashboard.event", event_id=event_id))
