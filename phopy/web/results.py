"""Search results as every channel shows them: the one selfie search of the web page,
the JSON API, the REST API, the LINE gallery and the CLI, and the signed links of
each photo found."""
from flask import current_app, url_for

from phopy.data import get_db
from phopy.extensions import (get_engine_settings, get_link_signer, get_search_cache,
                               get_selfie_analyzer)
from phopy.services import links, search


def photo_links(event_id, photo_id):
    """Thumbnail, view and download URLs (signed) for one photo."""
    token = links.sign_photo(get_link_signer(), event_id, photo_id)
    return {"thumbnail_url": url_for("public.photo", token=token, kind="thumb"),
            "view_url": url_for("public.photo", token=token, kind="view"),
            "download_url": url_for("public.photo", token=token, kind="download")}


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
    rows = []
    for match in result.matches:
        photo = match["photo"]
        rows.append({"photo_id": photo["id"], "filename": photo["filename"],
                     "distance": match["distance"], "width": photo["width"],
                     "height": photo["height"], **photo_links(event["id"], photo["id"])})
    return result, rows


def search_json(result, rows):
    """The search answer as the APIs and the CLI return it."""
    return {"event_id": result.event_id,
            "photos": [{k: r[k] for k in ("photo_id", "filename", "distance", "thumbnail_url",
                                          "download_url")} for r in rows],
            "faces_in_selfies": result.faces_in_selfies,
            "indexed_photos": result.indexed_photos,
            "total_photos": result.total_photos,
            "indexing_complete": result.indexing_complete,
            "notices": result.notices}
