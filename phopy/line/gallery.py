"""The participant's gallery: a signed, expiring, opaque link from the LINE summary.

Plain server-rendered page (works in LINE's in-app browser, through LIFF, and
in any browser): only the photos the participant was found in, each with a
download link, and all of them as one ZIP. The photo and ZIP links are the
same signed links the web search hands out.
"""
from flask import Blueprint, current_app, render_template, url_for

from phopy.data import get_db
from phopy.extensions import get_link_signer
from phopy.services import events, links, photos
from phopy.line import attendees, gallery_links
from phopy.web.paywall import is_locked
from phopy.web.results import photo_links

bp = Blueprint("line_gallery", __name__, url_prefix="/line", template_folder="templates")


@bp.route("/gallery/<token>")
def gallery(token):
    """The photos of one participant in one event."""
    cfg = current_app.config
    conn = get_db()
    event_id, user_id = gallery_links.read_gallery_token(
        conn, cfg["SECRET_KEY"], token, cfg["PHOTO_LINK_MAX_AGE"])
    event = events.get_event(conn, event_id)
    rows = []
    for photo_id in attendees.matched_photo_ids(conn, event_id, user_id):
        photo = photos.get_event_photo(conn, event_id, photo_id)
        rows.append({"photo_id": photo["id"], "filename": photo["filename"],
                     **photo_links(event_id, photo["id"])})
    zip_url = None
    locked = is_locked(conn, event)  # a sold event: previews only, bought through the web
    if rows and not locked:
        zip_token = links.sign_photo_set(get_link_signer(), event_id,
                                         [r["photo_id"] for r in rows])
        zip_url = url_for("public.zip_download", code=event["code"], t=zip_token)
    return render_template("line/gallery.html", event=event, rows=rows, zip_url=zip_url,
                           locked=locked)
