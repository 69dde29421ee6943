"""Per-event options on the dashboard: close or reopen the event and how long its
face data is kept (retention), and the banner every download carries."""
from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.errors import N_, NotFound, PhopyError, ValidationError
from phopy.extensions import get_storage
from phopy.services import events, overlays, retention
from phopy.web.auth import login_required
from phopy.web.i18n import translate
from phopy.web.owner import owned_event
from phopy.web.stored import send_stored

bp = Blueprint("event_options", __name__, url_prefix="/dashboard")


@bp.route("/events/<event_id>/face-data", methods=("POST",))
@login_required
def face_data(event_id):
    """Close or reopen the event, or change how long its face data is kept."""
    conn = get_db()
    event = events.get_owned_event(conn, event_id, g.photographer["id"])
    action = request.form.get("action")
    try:
        if action == "close":
            retention.mark_closed(conn, event["id"])
            flash(_("Event closed: face data will be deleted after the set number of days."),
                  "success")
        elif action == "reopen":
            retention.reopen(conn, event["id"])
            flash(_("Event reopened."), "success")
        else:
            retention.set_retention_days(conn, event["id"],
                                         request.form.get("face_retention_days"))
            flash(_("Saved."), "success")
    except PhopyError as exc:
        flash(translate(exc.message), "error")
    return redirect(url_for("dashboard.event", event_id=event["id"]))


@bp.route("/events/<event_id>/banner", methods=("POST",))
@login_required
def banner(event_id):
    """Upload (or remove) the event's PNG banner and choose where it sits."""
    conn, store = get_db(), get_storage()
    event = events.get_owned_event(conn, event_id, g.photographer["id"])
    try:
        if request.form.get("action") == "remove":
            overlays.remove_banner(conn, store, event["id"])
            flash(_("Banner removed."), "success")
        else:
            upload = request.files.get("banner")
            data = upload.read() if upload and upload.filename else None
            if not data and not event.get("banner_key"):
                raise ValidationError(N_("The banner must be a PNG file of at most 5 MB."))
            overlays.save_banner(conn, store, event["id"], data,
                                 request.form.get("banner_position"),
                                 max_pixels=current_app.config["MAX_PHOTO_PIXELS"])
            flash(_("Banner saved: every download of this event now carries it."), "success")
    except PhopyError as exc:
        flash(translate(exc.message), "error")
    return redirect(url_for("dashboard.event", event_id=event["id"]))


@bp.route("/events/<event_id>/banner.png")
@login_required
def banner_image(event_id):
    """The event's banner, for the dashboard preview."""
    event = owned_event(event_id)
    store = get_storage()
    if not event.get("banner_key") or not store.exists(event["banner_key"]):
        raise NotFound()
    return send_stored(store, event["banner_key"], mimetype="image/png", max_age=0)
