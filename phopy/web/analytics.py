"""The photographer's analytics page per event, and the download log.

The page holds no inline script: ``static/js/analytics.js`` fetches the
numbers from ``/api/events/<id>/analytics`` (named in a data attribute) and
draws them with Chart.js, served from ``static/js/vendor/``.
"""
import logging

from flask import Blueprint, current_app, render_template, request

from phopy.data import get_db
from phopy.extensions import get_link_signer
from phopy.services import analytics, links
from phopy.web.auth import login_required
from phopy.web.owner import owned_event

log = logging.getLogger(__name__)
bp = Blueprint("analytics", __name__, url_prefix="/dashboard")


@bp.route("/events/<event_id>/analytics")
@login_required
def event_page(event_id):
    """Charts of the event's searches, downloads and indexing."""
    event = owned_event(event_id)
    return render_template("dashboard/analytics.html", event=event)


def _downloaded_photos():
    """(event id, photo ids) of a successful download from a search result, else None."""
    if request.endpoint == "public.photo" and (request.view_args or {}).get("kind") == "download":
        token, key = request.view_args.get("token"), "p"
    elif request.endpoint == "public.zip_download":
        token, key = request.args.get("t", ""), "ps"
    else:
        return None
    payload = links.read_token(get_link_signer(), token, current_app.config["PHOTO_LINK_MAX_AGE"])
    ids = payload.get(key)
    return payload.get("e"), (ids if isinstance(ids, list) else [ids])


@bp.after_app_request
def _log_download(response):
    if response.status_code == 200 and request.endpoint in ("public.photo",
                                                            "public.zip_download"):
        try:
            found = _downloaded_photos()
            if found and found[0]:
                analytics.record_downloads(get_db(), *found)
        except Exception:  # a download is never refused for its log
            log.exception("could not log a download")
    return response
