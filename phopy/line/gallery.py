"""The participant's gallery: a signed, expiring, opaque link from the LINE summary.

Plain server-rendered page (works in LINE's in-app browser, through LIFF, and
in any browser): only the photos the participant was found in, each with a
download link, and all of them as one ZIP. The photo and ZIP links are the
same signed links the web search hands out.

While the participant's "is this you?" session lives, the page is also its
confirm page (what the "we found you" push links to): the faces the search is
unsure of, with "This is me" / "Not me", and "Not me" on each photo.
"""
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from phopy.data import get_db
from phopy.errors import ValidationError
from phopy.extensions import get_engine_settings, get_link_signer, get_search_cache
from phopy.services import events, links, photos
from phopy.line import attendees, gallery_links
from phopy.line import confirm as line_confirm
from phopy.web.i18n import translate
from phopy.web.paywall import is_locked
from phopy.web.results import face_crop_url, photo_links
from phopy.web.security import limit_code_guesses

bp = Blueprint("line_gallery", __name__, url_prefix="/line", template_folder="templates")


def _participant(token):
    cfg = current_app.config
    conn = get_db()
    event_id, user_id = gallery_links.read_gallery_token(
        conn, cfg["SECRET_KEY"], token, cfg["PHOTO_LINK_MAX_AGE"])
    return conn, events.get_event(conn, event_id), user_id


def _search():
    return get_search_cache(), get_engine_settings()


@bp.route("/gallery/<token>")
def gallery(token, error=None, status=200):
    """The photos of one participant in one event (and, while their search session
    lives, the faces to confirm)."""
    conn, event, user_id = _participant(token)
    event_id = event["id"]
    tiers = line_confirm.page_tiers(conn, _search(), event, user_id,
                                    current_app.config["SEARCH_MAX_ASKED"])
    shown = {y["photo"]["id"]: y for y in tiers.yours} if tiers else {}
    rows = []
    for photo_id in attendees.matched_photo_ids(conn, event_id, user_id):
        photo = photos.get_event_photo(conn, event_id, photo_id)
        match = shown.get(photo_id, {})
        rows.append({"photo_id": photo["id"], "filename": photo["filename"],
                     "face_id": match.get("face_id"), "confirmed": match.get("confirmed"),
                     **photo_links(event_id, photo["id"])})
    asked = [{**face, "crop_url": face_crop_url(event_id, face["face_id"])}
             for face in (tiers.ask if tiers else [])]
    zip_url = None
    locked = is_locked(conn, event)  # a sold event: previews only, bought through the web
    if rows and not locked:
        zip_token = links.sign_photo_set(get_link_signer(), event_id,
                                         [r["photo_id"] for r in rows])
        zip_url = url_for("public.zip_download", code=event["code"], t=zip_token)
    answer_url = url_for("line_gallery.answer", token=token) if tiers else None
    return render_template("line/gallery.html", event=event, rows=rows, zip_url=zip_url,
                           locked=locked, asked=asked, answer_url=answer_url,
                           error=error), status


@bp.route("/gallery/<token>/answer", methods=("POST",))
@limit_code_guesses
def answer(token):
    """"This is me" or "Not me" for one face; then the gallery again."""
    conn, event, user_id = _participant(token)
    choice = request.form.get("answer")
    try:
        line_confirm.page_answer(conn, _search(), event, user_id,
                                 request.form.get("face_id"), choice,
                                 current_app.config["SEARCH_MAX_ASKED"])
    except ValidationError as exc:
        return gallery(token, error=translate(exc.message), status=exc.status_code)
    target = url_for("line_gallery.gallery", token=token)
    return redirect(f"{target}#{'asked' if choice == 'me' else 'results'}", 303)
