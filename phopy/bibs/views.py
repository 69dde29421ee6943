"""The bib pages: search by bib number on the event page, the dashboard's running-event
card (settings, start list, reading), the review queue, and the API's bib search.

Views validate input, call ``phopy.bibs`` services and render (templates in
``templates/bibs/`` beside this file).
"""
import io
import logging

from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _

from phopy.bibs import search, service, start_list
from phopy.bibs.reading import enqueue_reading, read_again
from phopy.data import get_db
from phopy.errors import N_, PhopyError, ValidationError
from phopy.extensions import get_engine_settings, get_link_signer, get_search_cache, get_storage
from phopy.services import events, links
from phopy.web.auth import login_required
from phopy.web.headers import private
from phopy.web.i18n import translate
from phopy.web.owner import owned_event
from phopy.web.paywall import is_locked
from phopy.web.results import photo_row, run_search
from phopy.web.security import limit_code_guesses, limit_searches

log = logging.getLogger(__name__)
bp = Blueprint("bibs", __name__, template_folder="templates")


@bp.app_context_processor
def bib_globals():
    """``bib_search_on(event)``, ``bib_summary(event_id)`` and ``bib_digits_only(event)``
    (the number pad on phones) for templates."""
    def bib_search_on(event):
        return search.bib_search_on(get_db(), current_app.config, event)

    def bib_summary(event_id):
        return service.summary(get_db(), current_app.config, event_id)

    def bib_digits_only(event):
        return search.digits_only(get_db(), current_app.config, event)
    return {"bib_search_on": bib_search_on, "bib_summary": bib_summary,
            "bib_digits_only": bib_digits_only}


# -- searching ----------------------------------------------------------------
def event_search(event, form, selfies):
    """The API's event search with a ``bib`` field, or selfies on a running event:
    (SearchResult, rows) with ``found_by``; None leaves it to the selfie search."""
    conn, cfg = get_db(), current_app.config
    query = (form.get("bib") or "").strip()
    if not query and not selfies:
        return None
    if not search.bib_search_on(conn, cfg, event):
        if query and not selfies:
            raise search.BibSearchOff(N_("This event cannot be searched by bib number."))
        return None
    bib = search.check_query(conn, cfg, event, query) if query else None
    found, result = [], None
    if selfies:
        result, _rows = run_search(event, selfies)
        found, _bibs = search.add_bib_photos(conn, get_search_cache(), get_engine_settings(),
                                             event, result)
    if bib is not None:
        try:
            by_bib = search.find_by_bib(conn, get_search_cache(), get_engine_settings(), event,
                                        bib)
        except search.NoRunner:
            if not selfies:
                raise
            by_bib = []
        found = _fuse(found, by_bib)
    fused = search.result_for(conn, event, found,
                              notices=result.notices if result else (),
                              faces_in_selfies=result.faces_in_selfies if result else (),
                              encodings=result.encodings if result else ())
    return fused, [photo_row(event["id"], m) for m in fused.matches]


def _fuse(first, second):
    """Found values of two searches, once per photo (``both`` where they agree)."""
    by_photo = {f.photo_id: f for f in first}
    for f in second:
        mine = by_photo.get(f.photo_id)
        if mine is None:
            by_photo[f.photo_id] = f
        elif mine.found_by != f.found_by or f.found_by == "both":
            mine.found_by = "both"
            mine.distance = mine.distance if mine.distance is not None else f.distance
    return list(by_photo.values())


@bp.route("/e/<code>/bib", methods=("POST",))
@limit_code_guesses
@limit_searches
def search_page(code):
    """"Search by bib number" on the event page."""
    conn, cfg = get_db(), current_app.config
    event = events.get_event_by_code(conn, code)
    page_event = events.attendee_view(event)
    query = (request.form.get("bib") or "").strip()
    try:
        bib = search.check_query(conn, cfg, event, query)
        found = search.find_by_bib(conn, get_search_cache(), get_engine_settings(), event, bib)
    except PhopyError as exc:
        page = render_template("public/event.html", event=page_event,
                               bib_error=translate(exc.message), bib_query=query[:20])
        return page, exc.status_code
    result = search.result_for(conn, event, found)
    rows = [photo_row(event["id"], m) for m in result.matches]
    zip_token = links.sign_photo_set(get_link_signer(), event["id"],
                                     [r["photo_id"] for r in rows]) if rows else None
    locked = is_locked(conn, event)  # sold photos: previews, and a checkout instead
    return render_template(
        "bibs/results.html", event=page_event, rows=rows, bib=bib, notices=result.notices,
        locked=locked, result_token=zip_token,
        zip_url=url_for("public.zip_download", code=event["code"], t=zip_token)
        if zip_token and not locked else None)


# -- the photographer's side ---------------------------------------------------
def _back(event_id):
    return redirect(url_for("dashboard.event", event_id=event_id) + "#bibs-card", 303)


@bp.route("/dashboard/events/<event_id>/bibs", methods=("POST",))
@login_required
def settings(event_id):
    """Running event on or off, the bib pattern, bib search on or off."""
    event = owned_event(event_id)
    form = request.form
    try:
        task = service.save_settings(get_db(), current_app.config, event["id"],
                                     bool(form.get("is_running_event")), form.get("bib_pattern"),
                                     bool(form.get("bib_search")))
    except PhopyError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("Saved: bib numbers are read from this event's photos.") if task
              else _("Saved."), "success")
    return _back(event["id"])


@bp.route("/dashboard/events/<event_id>/bibs/start-list", methods=("POST",))
@login_required
def upload_start_list(event_id):
    """Upload the start list (CSV: bib, name, optionally category, e-mail, LINE id)."""
    event = owned_event(event_id)
    upload = request.files.get("start_list")
    conn = get_db()
    try:
        if not upload or not upload.filename:
            raise ValidationError(N_("Please choose a CSV file."), field="start_list")
        count = start_list.import_start_list(conn, current_app.config, event["id"],
                                             upload.read(start_list.MAX_BYTES + 1))
    except PhopyError as exc:
        flash(translate(exc.message), "error")
    else:
        if service.summary(conn, current_app.config, event["id"])["running"]:
            read_again(conn, event["id"])  # readings are judged against the new list
        flash(_("Start list imported: %(n)d runners.", n=count), "success")
    return _back(event["id"])


@bp.route("/dashboard/events/<event_id>/bibs/read", methods=("POST",))
@login_required
def read_now(event_id):
    """Read the photos not read yet (or, with ``again``, every photo)."""
    event = owned_event(event_id)
    conn = get_db()
    if not service.summary(conn, current_app.config, event["id"])["running"]:
        flash(_("Mark the event as a running event first."), "error")
    else:
        (read_again if request.form.get("again") else enqueue_reading)(conn, event["id"])
        flash(_("Reading bib numbers…"), "success")
    return _back(event["id"])


@bp.route("/dashboard/events/<event_id>/bibs/review")
@login_required
def review(event_id):
    """The readings to look at: low confidence, not on the start list, one bib on two faces."""
    event = owned_event(event_id)
    return render_template("bibs/review.html", event=event,
                           items=service.review_items(get_db(), event["id"]))


@bp.route("/dashboard/events/<event_id>/bibs/review/<int:reading_id>", methods=("POST",))
@login_required
def fix(event_id, reading_id):
    """One-click fix: use this number, or "not a bib"."""
    event = owned_event(event_id)
    try:
        value = service.fix(get_db(), current_app.config, event["id"], reading_id,
                            request.form.get("action"), request.form.get("bib"))
    except PhopyError as exc:
        flash(translate(exc.message), "error")
    else:
        flash(_("Fixed: %(bib)s.", bib=value) if value else _("Fixed: not a bib."), "success")
    return redirect(url_for("bibs.review", event_id=event["id"]), 303)


@bp.route("/dashboard/events/<event_id>/bibs/readings/<int:reading_id>.jpg")
@login_required
def reading_image(event_id, reading_id):
    """The place a reading was read, for the review queue."""
    event = owned_event(event_id)
    data = service.reading_crop(get_db(), get_storage(), event["id"], reading_id,
                                current_app.config["MAX_PHOTO_PIXELS"])
    return private(send_file(io.BytesIO(data), mimetype="image/jpeg"), 3600)
