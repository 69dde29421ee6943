"""The REST API: events, photos, face search and tasks, with API keys or the session.

Each view's docstring ends with its OpenAPI operation in YAML (after ``---``);
``phopy.web.openapi`` builds /api/openapi.json from them with apispec.
"""
from flask import Blueprint, current_app, g, jsonify, request, url_for

from phopy.data import get_db
from phopy.data import events as events_db
from phopy.data import photos as photos_db
from phopy.errors import N_, NotFound, ValidationError
from phopy.extensions import get_search_cache, get_storage
from phopy.jobs import tasks
from phopy.services import analytics, confirm, events, indexing, photos, uploads
from phopy.web.apiauth import (auth_required, authenticate, json_object, keyed_limit,
                               page_args, paged)
from phopy.web.owner import owned_event
from phopy.web.results import (photo_links, read_uploads, run_search, search_json,
                               session_tiers, start_session)
from phopy.web.security import csrf, limiter, search_limit
from phopy.web.uploads import added_message, request_files, upload_json

bp = Blueprint("api_v1", __name__, url_prefix="/api")
csrf.exempt(bp)  # keys need no CSRF; session writes are checked in auth_required
bp.before_request(authenticate)


def _stale():
    return current_app.config["TASK_STALE_SECONDS"]


def event_json(event):
    """An event as the API returns it."""
    return {
        "id": event["id"], "code": event["code"], "name": event["name"],
        "event_date": event["event_date"], "location": event["location"],
        "description": event["description"], "is_listed": bool(event["is_listed"]),
        "auto_index": bool(event["auto_index"]), "created_at": event["created_at"],
        "photo_count": event["photo_count"], "scanned_count": event["scanned_count"],
        "face_count": event["face_count"], "error_count": event["error_count"],
        "public_url": events.public_url(current_app.config["PUBLIC_BASE_URL"], event["code"]),
    }


def photo_json(event_id, photo):
    """A photo with its scan status and signed thumbnail/download links."""
    links = photo_links(event_id, photo["id"])
    return {"id": photo["id"], "filename": photo["filename"],
            "status": photo["scan_status"] or "pending", "face_count": photo["faces_count"] or 0,
            "error": photo["scan_error"], "width": photo["width"], "height": photo["height"],
            "size_bytes": photo["size_bytes"], "created_at": photo["created_at"],
            "thumbnail_url": links["thumbnail_url"], "download_url": links["download_url"]}


@bp.route("/events", methods=("GET",))
@keyed_limit
@auth_required
def list_events():
    """The caller's events, newest first, page by page.
    ---
    get:
      tags: [events]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      parameters: [page, per_page]
      responses:
        '200': {description: A page of events, content: {application/json: {schema: {$ref: '#/components/schemas/EventPage'}}}}
        '400': {$ref: '#/components/responses/Error'}
        '401': {$ref: '#/components/responses/Error'}
    """
    page, per_page, offset = page_args()
    conn, owner = get_db(), g.photographer["id"]
    rows = events_db.page_owner_events(conn, owner, per_page, offset)
    return jsonify(paged([event_json(e) for e in rows], page, per_page,
                         events_db.count_owner_events(conn, owner)))


@bp.route("/events", methods=("POST",))
@keyed_limit
@auth_required
def create_event():
    """Create an event (JSON body); it gets an attendee code and QR code.
    ---
    post:
      tags: [events]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/EventInput'}}}
      responses:
        '201': {description: The new event, content: {application/json: {schema: {$ref: '#/components/schemas/Event'}}}}
        '400': {$ref: '#/components/responses/Error'}
        '401': {$ref: '#/components/responses/Error'}
    """
    fields = events.check_event_fields(json_object(), partial=False)
    conn = get_db()
    event = events.create_event(conn, get_storage(), g.photographer["id"], fields["name"],
                                base_url=current_app.config["PUBLIC_BASE_URL"],
                                event_date=fields.get("event_date"),
                                location=fields.get("location"),
                                description=fields.get("description"),
                                is_listed=bool(fields.get("is_listed")))
    if "auto_index" in fields:
        event = events.update_event(conn, event["id"], g.photographer["id"],
                                    {"auto_index": fields["auto_index"]})
    response = jsonify(event_json(event))
    response.headers["Location"] = url_for("api_v1.get_event", event_id=event["id"])
    return response, 201


@bp.route("/events/<event_id>", methods=("GET",))
@keyed_limit
@auth_required
def get_event(event_id):
    """One of the caller's events with its counts.
    ---
    get:
      tags: [events]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      responses:
        '200': {description: The event, content: {application/json: {schema: {$ref: '#/components/schemas/Event'}}}}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    return jsonify(event_json(owned_event(event_id)))


@bp.route("/events/<event_id>", methods=("PATCH",))
@keyed_limit
@auth_required
def update_event(event_id):
    """Change an event's details or switches (only the fields sent).
    ---
    patch:
      tags: [events]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/EventInput'}}}
      responses:
        '200': {description: The changed event, content: {application/json: {schema: {$ref: '#/components/schemas/Event'}}}}
        '400': {$ref: '#/components/responses/Error'}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    owned_event(event_id)
    fields = events.check_event_fields(json_object(), partial=True)
    return jsonify(event_json(events.update_event(get_db(), event_id, g.photographer["id"],
                                                  fields)))


@bp.route("/events/<event_id>", methods=("DELETE",))
@keyed_limit
@auth_required
def delete_event(event_id):
    """Delete an event with all its photos and faces.
    ---
    delete:
      tags: [events]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      responses:
        '204': {description: Deleted}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    events.delete_event(get_db(), get_storage(), event_id, g.photographer["id"])
    get_search_cache().drop(event_id)
    return "", 204


@bp.route("/events/<event_id>/photos", methods=("POST",))
@keyed_limit
@auth_required
def upload_photos(event_id):
    """Add photos (multipart field ``photos``, many files); indexing starts unless turned off.
    ---
    post:
      tags: [photos]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [photos]
              properties: {photos: {type: array, items: {type: string, format: binary}}}
      responses:
        '200': {description: 'What was added, duplicated or rejected, and the indexing task', content: {application/json: {schema: {$ref: '#/components/schemas/UploadResult'}}}}
        '400': {$ref: '#/components/responses/Error'}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
        '413': {$ref: '#/components/responses/Error'}
        '415': {$ref: '#/components/responses/Error'}
    """
    event = owned_event(event_id)
    files = request_files("photos", current_app.config["MAX_PHOTO_BYTES"])
    if not files:
        raise ValidationError(N_("Please choose at least one photo."), field="photos")
    outcome = uploads.add_uploads(get_db(), get_storage(), event, files, current_app.config)
    summary, status = outcome.summary, outcome.status
    body = upload_json(outcome)
    body["task"] = tasks.task_json(outcome.task, _stale()) if outcome.task else None
    body["error"] = None if status == 200 else summary.rejected[0]["code"]
    body["message"] = (added_message(len(summary.added)) if status == 200
                       else body["rejected"][0]["error"])
    return jsonify(body), status


@bp.route("/events/<event_id>/photos", methods=("GET",))
@keyed_limit
@auth_required
def list_photos(event_id):
    """The event's photos, newest first, with scan status, face count and links.
    ---
    get:
      tags: [photos]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      parameters: [page, per_page]
      responses:
        '200': {description: A page of photos, content: {application/json: {schema: {$ref: '#/components/schemas/PhotoPage'}}}}
        '400': {$ref: '#/components/responses/Error'}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    owned_event(event_id)
    page, per_page, offset = page_args(50)
    conn = get_db()
    rows = photos.list_event_photos(conn, event_id, limit=per_page, offset=offset)
    return jsonify(paged([photo_json(event_id, p) for p in rows], page, per_page,
                         photos_db.count_for_event(conn, event_id)))


@bp.route("/events/<event_id>/index", methods=("POST",))
@keyed_limit
@auth_required
def start_indexing(event_id):
    """Queue indexing of the event's new photos; answers the task.
    ---
    post:
      tags: [tasks]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      responses:
        '202': {description: The queued task, content: {application/json: {schema: {$ref: '#/components/schemas/Task'}}}}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    owned_event(event_id)
    return jsonify(tasks.task_json(indexing.enqueue_indexing(get_db(), event_id),
                                      _stale())), 202


@bp.route("/tasks/<task_id>", methods=("GET",))
@keyed_limit
@auth_required
def get_task(task_id):
    """One indexing task's progress.
    ---
    get:
      tags: [tasks]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      responses:
        '200': {description: The task, content: {application/json: {schema: {$ref: '#/components/schemas/Task'}}}}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    task = tasks.get_task(get_db(), task_id)
    try:
        owned_event(task["event_id"])
    except NotFound:
        raise NotFound(N_("This task does not exist."))
    return jsonify(tasks.task_json(task, _stale()))


@bp.route("/events/<event_id>/analytics", methods=("GET",))
@keyed_limit
@auth_required
def event_analytics(event_id):
    """Searches per hour, share that found photos, downloads, most-found photos, indexing speed.
    ---
    get:
      tags: [analytics]
      security: [{bearerAuth: []}, {cookieAuth: []}]
      responses:
        '200': {description: The event's analytics, content: {application/json: {schema: {type: object}}}}
        '401': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    owned_event(event_id)
    return jsonify(analytics.event_analytics(get_db(), event_id))


@bp.route("/public/events/<code>", methods=("GET",))
@limiter.limit(search_limit)
def public_event(code):
    """What attendees may know about an event, by its code. No key needed.
    ---
    get:
      tags: [search]
      security: [{}]
      responses:
        '200': {description: 'The event: code, name, date, place, photos and indexing state', content: {application/json: {schema: {type: object}}}}
        '404': {$ref: '#/components/responses/Error'}
    """
    event = events.get_event_by_code(get_db(), code)
    return jsonify({"code": event["code"], "name": event["name"],
                    "event_date": event["event_date"], "location": event["location"],
                    "description": event["description"], "photo_count": event["photo_count"],
                    "indexing_complete": event["scanned_count"] >= event["photo_count"]})


@bp.route("/search-face", methods=("POST",))
@limiter.limit(search_limit)
@keyed_limit
def search_face():
    """Find an attendee's photos: 1–3 ``selfies`` plus ``event_id`` or ``event_code``. No key needed.
    ---
    post:
      tags: [search]
      security: [{}]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [selfies]
              properties:
                selfies: {type: array, items: {type: string, format: binary}, minItems: 1, maxItems: 3}
                event_id: {type: string}
                event_code: {type: string}
      responses:
        '200': {description: 'The matching photos, best first', content: {application/json: {schema: {$ref: '#/components/schemas/SearchResult'}}}}
        '400': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
        '410': {$ref: '#/components/responses/Error'}
        '413': {$ref: '#/components/responses/Error'}
        '415': {$ref: '#/components/responses/Error'}
        '422': {$ref: '#/components/responses/Error'}
        '429': {$ref: '#/components/responses/Error'}
        '503': {$ref: '#/components/responses/Error'}
    """
    event_id = (request.form.get("event_id") or "").strip()
    code = (request.form.get("event_code") or "").strip()
    if not event_id and not code:
        raise ValidationError(N_("Send event_id or event_code with the selfies."),
                              field="event_id")
    conn = get_db()
    event = events.get_event(conn, event_id) if event_id else events.get_event_by_code(conn, code)
    if event_id and code and events.normalize_code(code) != event["code"]:
        raise ValidationError(N_("event_id and event_code name different events."),
                              field="event_code")
    result, rows = run_search(event, read_uploads(request.files.getlist("selfies")))
    session = confirm.get_session(conn, start_session(result, "api"))
    return jsonify(search_json(result, rows, session_tiers(session)))

