"""Public pages: landing, listed events, the attendee's event page and photos."""

from flask import (Blueprint, Response, current_app, redirect, render_template, request,
                   url_for)

from phopy.data import get_database, get_db
from phopy.errors import N_, Forbidden, NotFound, PhopyError
from phopy.extensions import get_link_signer, get_storage
from phopy.services import confirm, downloads, events, links, photos
from phopy.web import paywall
from phopy.web.answers import render_session
from phopy.web.headers import private
from phopy.web.i18n import translate
from phopy.web.results import read_uploads, run_search, start_session
from phopy.web.security import (device_key, limit_code_guesses, limit_downloads,
                                limit_searches, limit_zips)
from phopy.web.stored import send_download, send_stored

bp = Blueprint("public", __name__)


@bp.route("/")
def landing():
    """What Phopy is, and a box to type an event code."""
    return render_template("public/landing.html")


@bp.route("/go")
@limit_code_guesses
def go():
    """Jump to the event whose code was typed."""
    code = events.normalize_code(request.args.get("code"))
    if not code:
        return redirect(url_for("public.landing"))
    event = events.get_event_by_code(get_db(), code)
    return redirect(url_for("public.event_page", code=event["code"]))


@bp.route("/events")
def event_list():
    """Events their photographers chose to list."""
    return render_template("public/events.html", events=events.list_public_events(get_db()))


def retry_after_headers(exc):
    """``Retry-After`` for a busy answer, else no extra headers."""
    if exc.status_code == 503:
        return {"Retry-After": str(current_app.config["SEARCH_RETRY_AFTER_SECONDS"])}
    return {}


@bp.route("/e/<code>", methods=("GET", "POST"))
@limit_code_guesses
@limit_searches
def event_page(code):
    """The attendee page: upload selfies, see your photos."""
    event = events.get_event_by_code(get_db(), code)
    page_event = events.attendee_view(event)
    if request.method == "GET":
        return render_template("public/event.html", event=page_event)
    try:
        result, _rows = run_search(event, read_uploads(request.files.getlist("selfies")))
    except PhopyError as exc:
        page = render_template("public/event.html", event=page_event, error=translate(exc.message),
                               error_code=exc.code)
        return page, exc.status_code, retry_after_headers(exc)
    # the answer comes from a search session, so that "is this you?" can follow
    session = confirm.get_session(get_db(), start_session(result, device_key()))
    return render_session(event, session, notices=result.notices)


@bp.route("/p/<token>/<kind>")
@limit_downloads
def photo(token, kind):
    """A photo from a search result: ``thumb``, ``view`` (full size) or ``download``."""
    payload = links.read_token(get_link_signer(), token, current_app.config["PHOTO_LINK_MAX_AGE"])
    if "p" not in payload or kind not in ("thumb", "view", "download"):
        raise NotFound()
    conn, store = get_db(), get_storage()
    photo_row = photos.get_event_photo(conn, payload["e"], payload["p"])
    event = events.get_event(conn, payload["e"])
    if paywall.is_locked(conn, event):  # a sold photo: its watermarked preview, no download
        if kind == "download":
            raise Forbidden(N_("Buy this photo to download it."))
        key = paywall.preview_key(conn, store, event, photo_row)
        return send_stored(store, key, mimetype="image/jpeg", max_age=3600)
    if kind == "thumb":
        key = photos.ensure_thumbnail(conn, store, photo_row,
                                      current_app.config["THUMBNAIL_MAX_SIDE"])
        if key is None:
            raise NotFound(N_("This photo could not be read."))
        return send_stored(store, key, mimetype="image/jpeg", max_age=86400)
    # The event's banner on every download (a bounded copy made once); original untouched.
    got = downloads.photo_download(conn, store, current_app.config, photo_row, event)
    return send_download(store, got, as_attachment=kind == "download"
                         or not got.mimetype.startswith("image/"))


def send_original(store, photo_row, as_attachment, max_age):
    """A stored original with its real (sniffed) type, cached by the browser only."""
    mimetype, name = photos.stored_media(store, photo_row)
    return send_stored(store, photo_row["storage_key"], mimetype=mimetype, download_name=name,
                       as_attachment=as_attachment or not mimetype.startswith("image/"),
                       max_age=max_age)


@bp.route("/e/<code>/photos.zip")
@limit_zips
def zip_download(code):
    """All photos of a search result as one ZIP."""
    event = events.get_event_by_code(get_db(), code)
    payload = links.read_token(get_link_signer(), request.args.get("t", ""),
                               current_app.config["PHOTO_LINK_MAX_AGE"])
    if payload.get("e") != event["id"] or not payload.get("ps"):
        raise NotFound(N_("This link is not valid."))
    conn = get_db()
    if paywall.is_locked(conn, event):
        raise Forbidden(N_("Buy these photos to download them."))
    rows = [photos.get_event_photo(conn, event["id"], pid) for pid in payload["ps"]]
    archive = downloads.zip_archive(get_database(), get_storage(), current_app.config, rows,
                                    event)
    response = Response(iter(archive), mimetype="application/zip")
    if archive.sized:  # streamed as it is made: no temp file, one chunk in memory
        response.content_length = len(archive)
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"phopy-{event['code']}.zip")
    return private(response, 0)
