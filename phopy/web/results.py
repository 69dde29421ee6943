"""Search results as every channel shows them: the one selfie search of the web page,
the JSON API, the REST API, the LINE gallery and the CLI, and the signed links of
each photo found."""
from flask import current_app, url_for

from phopy.data import get_db
from phopy.extensions import (get_engine_settings, get_link_signer, get_search_cache,
                               get_selfie_analyzer)
from phopy.services import confirm, links, search


def photo_links(event_id, photo_id):
    """Thumbnail, view and download URLs (signed) for one photo."""
    token = links.sign_photo(get_link_signer(), event_id, photo_id)
    return {"thumbnail_url": url_for("public.photo", token=token, kind="thumb"),
            "view_url": url_for("public.photo", token=token, kind="view"),
            "download_url": url_for("public.photo", token=token, kind="download")}


def face_crop_url(event_id, face_id):
    """The signed URL of one face's crop (what "is this you?" shows)."""
    return url_for("answers.face_crop", token=links.sign_face(get_link_signer(), event_id,
                                                              face_id))


def read_uploads(uploads):
    """(filename, bytes) pairs of the uploaded files that were chosen."""
    return [(f.filename, f.read()) for f in uploads if f and f.filename]


def run_search(event, selfies):
    """Run a selfie search on (filename, bytes) pairs; return (SearchResult, photo rows)."""
    cfg = current_app.config
    analyzer = get_selfie_analyzer()
    with analyzer.slot():  # ServerBusy (503) at once when the search queue is full
        result = search.search_event(get_db(), analyzer, get_search_cache(), event, selfies,
                                     tolerance=get_engine_settings().tolerance,
                                     max_bytes=cfg["MAX_PHOTO_BYTES"],
                                     max_selfies=cfg["MAX_SELFIES"],
                                     max_pixels=cfg["MAX_SELFIE_PIXELS"])
    return result, [_photo_row(event["id"], match) for match in result.matches]


def register_event_search(app, func):
    """Let a feature answer an event's search (the API's and its page's): ``func(event,
    form, selfies)`` returns (SearchResult, photo rows), or None to leave it to the
    selfie search. ``phopy.bibs`` registers search by bib number this way."""
    app.extensions.setdefault("phopy_event_searches", []).append(func)


def run_event_search(event, form, selfies):
    """An event's search: a registered feature's answer, else the selfie search."""
    for func in current_app.extensions.get("phopy_event_searches", ()):
        answer = func(event, form, selfies)
        if answer is not None:
            return answer
    return run_search(event, selfies)


def photo_row(event_id, match):
    """A found photo as the pages and APIs show it (``match``: {photo, distance, ...})."""
    return _photo_row(event_id, match)


def _photo_row(event_id, match):
    photo = match["photo"]
    return {"photo_id": photo["id"], "filename": photo["filename"],
            "distance": match["distance"], "width": photo["width"], "height": photo["height"],
            "face_id": match.get("face_id"), "confirmed": match.get("confirmed", False),
            **({"found_by": match["found_by"]} if "found_by" in match else {}),
            **photo_links(event_id, photo["id"])}


def start_session(result, owner):
    """Keep a search's selfies for "is this you?"; the new session's id."""
    return confirm.start(get_db(), get_engine_settings(), result.event_id, result.encodings,
                         owner, current_app.config["SEARCH_SESSION_HOURS"])


def session_tiers(session):
    """(Tiers, photo rows of "your photos", faces to ask about with their crop URLs)."""
    tiers = confirm.tiers(get_db(), get_search_cache(), get_engine_settings(), session,
                          current_app.config["SEARCH_MAX_ASKED"])
    rows = [_photo_row(tiers.event_id, match) for match in tiers.yours]
    asked = [{**face, "crop_url": face_crop_url(tiers.event_id, face["face_id"])}
             for face in tiers.ask]
    return tiers, rows, asked


def tiers_json(tiers, rows, asked):
    """A session's answer as the REST API returns it."""
    return {"session_id": tiers.session_id, "event_id": tiers.event_id,
            "photos": [{k: r[k] for k in ("photo_id", "filename", "distance", "face_id",
                                          "confirmed", "thumbnail_url", "download_url")}
                       for r in rows],
            "candidates": [{k: a[k] for k in ("face_id", "distance", "crop_url")}
                           for a in asked],
            "confirmed": tiers.confirmed, "rejected": tiers.rejected}


def search_json(result, rows, session=None):
    """The search answer as the APIs and the CLI return it; with a session's answer
    (``(tiers, rows, asked)``), its photos and the faces to ask about too."""
    body = {"event_id": result.event_id,
            "photos": [{k: r[k] for k in ("photo_id", "filename", "distance", "thumbnail_url",
                                          "download_url", "found_by") if k in r} for r in rows],
            "faces_in_selfies": result.faces_in_selfies,
            "indexed_photos": result.indexed_photos,
            "total_photos": result.total_photos,
            "indexing_complete": result.indexing_complete,
            "notices": result.notices}
    if session is not None:
        body.update(tiers_json(*session))
    return body
