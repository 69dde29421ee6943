"""The JSON API: selfie search and indexing progress."""
from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.jobs import tasks
from phopy.services import events, indexing
from phopy.web.auth import login_required
from phopy.web.owner import owned_event
from phopy.web.results import read_uploads, run_event_search, search_json
from phopy.web.security import csrf, limit_searches

bp = Blueprint("api", __name__, url_prefix="/api")


def _stale():
    return current_app.config["TASK_STALE_SECONDS"]


@bp.route("/events/<event_id>/search", methods=("POST",))
@csrf.exempt
@limit_searches
def search(event_id):
    """Search an event with 1–3 selfies (multipart field ``selfies``); a running event
    also by bib number (form field ``bib``, instead of or beside the selfies; each photo
    then says ``found_by``: face, bib or both).
    ---
    post:
      tags: [search]
      security: [{}]
      responses:
        '200': {description: 'The matching photos, best first', content: {application/json: {schema: {$ref: '#/components/schemas/SearchResult'}}}}
        '400': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
        '410': {$ref: '#/components/responses/Error'}
        '415': {$ref: '#/components/responses/Error'}
        '422': {$ref: '#/components/responses/Error'}
        '503': {$ref: '#/components/responses/Error'}
    """
    event = events.get_event(get_db(), event_id)
    result, rows = run_event_search(event, request.form,
                                    read_uploads(request.files.getlist("selfies")))
    return jsonify(search_json(result, rows))


def _owned_task(task_id):
    task = tasks.get_task(get_db(), task_id)
    events.get_owned_event(get_db(), task["event_id"], g.photographer["id"])
    return task


@bp.route("/task/<task_id>")
@login_required
def task(task_id):
    """One task's progress.
    ---
    get:
      security: [{cookieAuth: []}]
      responses:
        '200': {description: The task, content: {application/json: {schema: {$ref: '#/components/schemas/Task'}}}}
    """
    return jsonify(tasks.task_json(_owned_task(task_id), _stale()))


@bp.route("/event/<event_id>/task")
@login_required
def event_task(event_id):
    """The event's latest task (404 when it never had one).
    ---
    get:
      security: [{cookieAuth: []}]
      responses:
        '200': {description: The task, content: {application/json: {schema: {$ref: '#/components/schemas/Task'}}}}
    """
    owned_event(event_id)
    latest = tasks.latest_task(get_db(), event_id)
    if latest is None:
        return jsonify({"error": "not_found", "message": _("This event has no task yet.")}), 404
    return jsonify(tasks.task_json(latest, _stale()))


@bp.route("/event/<event_id>/checkpoint/status")
@login_required
def checkpoint_status(event_id):
    """How many photos are scanned, without faces or unreadable, and what is left.
    ---
    get:
      security: [{cookieAuth: []}]
      responses:
        '200': {description: The counts, content: {application/json: {schema: {type: object}}}}
    """
    owned_event(event_id)
    return jsonify(indexing.checkpoint_status(get_db(), event_id))
