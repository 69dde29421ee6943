"""The photographer's dashboard: events, photos, indexing."""
from flask import (Blueprint, current_app, flash, g, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_babel import ngettext

from phopy import storage as keys
from phopy.data import get_db
from phopy.errors import N_, NotFound, PhopyError
from phopy.extensions import get_engine_settings, get_search_cache, get_storage
from phopy.jobs import tasks
from phopy.services import confirm, events, indexing, photos, uploads
from phopy.web.auth import login_required
from phopy.web.errors import wants_json
from phopy.web.i18n import translate
from phopy.web.owner import owned_event, task_started
from phopy.web.public import send_original
from phopy.web.stored import send_stored
from phopy.web.uploads import added_message, request_files, upload_json

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _stale():
    return current_app.config["TASK_STALE_SECONDS"]


@bp.route("/")
@login_required
def index():
    """The photographer's events with status and counts."""
    conn = get_db()
    rows = []
    owned = events.list_owner_events(conn, g.photographer["id"])
    stale_engine = indexing.events_needing_reindex(conn, [e["id"] for e in owned],
                                                   get_engine_settings())
    for event in owned:
        task = tasks.latest_task(conn, event["id"])
        rows.append({"event": event, "task": tasks.task_json(task, _stale()) if task else None,
                     "needs_reindex": event["id"] in stale_engine})
    return render_template("dashboard/index.html", rows=rows)


@bp.route("/events/new", methods=("GET", "POST"))
@login_required
def new_event():
    """Create an event."""
    form, error = {}, None
    if request.method == "POST":
        form = request.form
        try:
            event = events.create_event(
                get_db(), get_storage(), g.photographer["id"], form.get("name"),
                base_url=current_app.config["PUBLIC_BASE_URL"],
                event_date=form.get("event_date"), location=form.get("location"),
                description=form.get("description"), is_listed=bool(form.get("is_listed")))
        except PhopyError as exc:
            error = translate(exc.message)
        else:
            flash(_("Event created. Add its photos below."), "success")
            return redirect(url_for("dashboard.event", event_id=event["id"]))
    return render_template("dashboard/new_event.html", form=form, error=error), \
        (400 if error else 200)


@bp.route("/events/<event_id>")
@login_required
def event(event_id):
    """One event: code, QR, photos, indexing progress."""
    conn = get_db()
    ev = owned_event(event_id)
    task = tasks.latest_task(conn, event_id)
    per_page = current_app.config["DASHBOARD_PAGE_SIZE"]
    pages = max(1, -(-ev["photo_count"] // per_page))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    return render_template(
        "dashboard/event.html", event=ev,
        public_url=events.public_url(current_app.config["PUBLIC_BASE_URL"], ev["code"]),
        task=tasks.task_json(task, _stale()) if task else None,
        status=indexing.checkpoint_status(conn, event_id),
        photos=photos.list_event_photos(conn, event_id, limit=per_page,
                                        offset=(page - 1) * per_page),
        page=page, pages=pages, engine=get_engine_settings().engine,
        feedback=confirm.event_feedback(conn, event_id),
        needs_reindex=bool(indexing.events_needing_reindex(conn, [event_id],
                                                           get_engine_settings())))


@bp.route("/events/<event_id>/photos", methods=("POST",))
@login_required
def upload(event_id):
    """Add uploaded photos; start indexing unless the event turned that off."""
    request.max_content_length = current_app.config["MAX_UPLOAD_REQUEST_BYTES"]
    ev = owned_event(event_id)
    files = request_files("photos", current_app.config["MAX_PHOTO_BYTES"])
    if not files:
        raise PhopyError(_("Please choose at least one photo."))
    outcome = uploads.add_uploads(get_db(), get_storage(), ev, files, current_app.config)
    summary, status = outcome.summary, outcome.status
    body = upload_json(outcome)
    body["task_id"] = outcome.task["id"] if outcome.task else None
    if wants_json():
        body["error"] = None if status == 200 else summary.rejected[0]["code"]
        body["message"] = (added_message(len(summary.added)) if status == 200
                           else body["rejected"][0]["error"])
        return jsonify(body), status
    if summary.added:
        flash(added_message(len(summary.added)), "success")
    if summary.duplicates:
        flash(ngettext("%(num)d photo was already in this event.",
                       "%(num)d photos were already in this event.", len(summary.duplicates)),
              "info")
    for rejected in body["rejected"]:
        flash(rejected["error"], "error")
    return redirect(url_for("dashboard.event", event_id=event_id), 303)


@bp.route("/events/<event_id>/index", methods=("POST",))
@login_required
def start_indexing(event_id):
    """Queue indexing of the event's new photos."""
    owned_event(event_id)
    return task_started(indexing.enqueue_indexing(get_db(), event_id), _("Indexing started."),
                        event_id)


@bp.route("/events/<event_id>/reindex", methods=("POST",))
@login_required
def reindex(event_id):
    """Forget the event's faces and index every photo again with the running engine."""
    owned_event(event_id)
    task = indexing.reindex_event(get_db(), event_id)
    get_search_cache().drop(event_id)
    return task_started(task, _("Re-indexing started with the new face engine."), event_id)


@bp.route("/events/<event_id>/tasks/<task_id>/resume", methods=("POST",))
@login_required
def resume(event_id, task_id):
    """Resume an interrupted indexing task."""
    owned_event(event_id)
    task = tasks.get_task(get_db(), task_id)
    if task["event_id"] != event_id:
        raise NotFound()
    tasks.resume_task(get_db(), task_id, _stale())
    flash(_("Indexing resumed."), "success")
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.route("/events/<event_id>/settings", methods=("POST",))
@login_required
def settings(event_id):
    """List/unlist the event and switch indexing after upload."""
    conn, owner = get_db(), g.photographer["id"]
    events.set_listed(conn, event_id, owner, bool(request.form.get("is_listed")))
    events.set_auto_index(conn, event_id, owner, bool(request.form.get("auto_index")))
    flash(_("Settings saved."), "success")
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.route("/events/<event_id>/delete", methods=("POST",))
@login_required
def delete_event(event_id):
    """Delete the event with all its photos and faces."""
    events.delete_event(get_db(), get_storage(), event_id, g.photographer["id"])
    get_search_cache().drop(event_id)
    flash(_("The event and its photos were deleted."), "success")
    return redirect(url_for("dashboard.index"))


@bp.route("/events/<event_id>/photos/<int:photo_id>/delete", methods=("POST",))
@login_required
def delete_photo(event_id, photo_id):
    """Delete one photo."""
    owned_event(event_id)
    photos.delete_photo(get_db(), get_storage(), event_id, photo_id)
    flash(_("Photo deleted."), "success")
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.route("/events/<event_id>/photos/<int:photo_id>/<kind>")
@login_required
def photo_file(event_id, photo_id, kind):
    """The owner's view of a photo: ``thumb`` or ``original``."""
    owned_event(event_id)
    conn, store = get_db(), get_storage()
    photo = photos.get_event_photo(conn, event_id, photo_id)
    if kind == "thumb":
        key = photos.ensure_thumbnail(conn, store, photo, current_app.config["THUMBNAIL_MAX_SIDE"])
        if key is None:
            raise NotFound(N_("This photo could not be read."))
        return send_stored(store, key, mimetype="image/jpeg", max_age=3600)
    if kind != "original":
        raise NotFound()
    return send_original(store, photo, False, 3600)


@bp.route("/events/<event_id>/qr.png")
@login_required
def qr(event_id):
    """The event's QR code, to print or download."""
    ev = owned_event(event_id)
    return send_stored(get_storage(), keys.qr_key(event_id), mimetype="image/png",
                       download_name=f"phopy-{ev['code']}.png",
                       as_attachment=bool(request.args.get("download")), max_age=0)

