"""Search by bib number, and bibs and faces helping each other.

- A bib search finds the photos where that number was read, plus the photos where
  the face that wore it appears (its faces' encodings searched like selfies, through
  the event's face index).
- A selfie search, symmetrically, gains the photos where a bib read under the
  runner's matched faces was read.
Each photo says why it was found: ``face``, ``bib`` or ``both``.
"""
import logging
from dataclasses import dataclass

from phopy.bibs.settings import event_settings, match_bib
from phopy.data import bibs as bibs_db
from phopy.data import photos as photos_db
from phopy.errors import N_, PhopyError
from phopy.faces.engine import engine_key
from phopy.faces.search import decode_encoding
from phopy.services.search import SearchResult, match_encodings

log = logging.getLogger(__name__)

MAX_LOOKS = 5  # faces of the runner searched with at most (the most confident readings')


class NoRunner(PhopyError):
    """No runner with that number."""

    status_code = 404
    code = "no_runner"


class BibSearchOff(PhopyError):
    """This event cannot be searched by bib number."""

    status_code = 400
    code = "bib_search_off"


@dataclass
class Found:
    """One photo found, and why."""

    photo_id: int
    found_by: str          # face | bib | both
    distance: float = None  # the face's distance when found by a face


def bib_search_on(conn, config, event):
    """Whether the event's attendees may search by bib number."""
    return event_settings(conn, config, event["id"])["search"]


# a number with a letter in it, one of each shape a pattern may allow
_LETTERED = ("A1", "A12", "A123", "A1234", "A12345", "1A", "12A", "123A", "AB12", "AB123")


def digits_only(conn, config, event):
    """Whether the event's bibs are digits only, so a phone may show its number pad:
    the start list says so when there is one, else the pattern when it takes no
    letters, else the numbers read so far (none yet: letters may come)."""
    pattern = event_settings(conn, config, event["id"])["pattern"]
    listed, listed_letters, read, read_letters = bibs_db.numbers_have_letters(
        conn, event["id"])
    if listed:
        return not listed_letters
    if not any(match_bib(pattern, sample) for sample in _LETTERED):
        return True
    return bool(read) and not read_letters


def check_query(conn, config, event, query):
    """The bib asked for, or NoRunner for text that is not a bib (BibSearchOff when off)."""
    settings = event_settings(conn, config, event["id"])
    if not settings["search"]:
        raise BibSearchOff(N_("This event cannot be searched by bib number."))
    bib = match_bib(settings["pattern"], query)
    if bib is None:
        raise NoRunner(N_("No runner with that number."))
    return bib


def find_by_bib(conn, cache, engine_settings, event, bib):
    """Photos of one bib (Found values): where it was read first, most confident first,
    then the photos of the faces that wore it. NoRunner when it was never read."""
    readings = bibs_db.searchable_readings(conn, event["id"], bib)
    if not readings:
        raise NoRunner(N_("No runner with that number."))
    best = {}
    for r in sorted(readings, key=lambda r: -r["confidence"]):
        best.setdefault(r["photo_id"], r)
    found = {pid: Found(pid, "bib") for pid in best}
    face_ids = [r["face_id"] for r in sorted(readings, key=lambda r: -r["confidence"])
                if r["face_id"]][:MAX_LOOKS]
    for match in _face_matches(conn, cache, engine_settings, event["id"], face_ids):
        if match.photo_id in found:
            found[match.photo_id].found_by = "both"
            found[match.photo_id].distance = match.distance
        else:
            found[match.photo_id] = Found(match.photo_id, "face", match.distance)
    return list(found.values())


def _face_matches(conn, cache, engine_settings, event_id, face_ids):
    if not face_ids or engine_settings is None:
        return []
    engine, model = engine_key(engine_settings)
    size = engine_settings.profile.size
    encodings = [decode_encoding(blob, size) for _id, blob in
                 bibs_db.face_encodings(conn, face_ids, engine, model)]
    if not encodings:
        return []
    return match_encodings(conn, cache, engine_settings, event_id, encodings)


def add_bib_photos(conn, cache, engine_settings, event, result):
    """Fuse a selfie search (SearchResult) with the bibs read under its matched faces
    (the selfies' matches again, with their faces: a matrix product, not a decode).

    Returns (Found values in the result's order then the added ones, bibs used)."""
    matches = result.matches
    face_ids = [m.face_id for m in match_encodings(conn, cache, engine_settings, event["id"],
                                                   result.encodings)] if result.encodings else []
    bibs = bibs_db.bibs_on_faces(conn, face_ids)
    found = {m["photo"]["id"]: Found(m["photo"]["id"], "face", m.get("distance"))
             for m in matches}
    for bib in bibs:
        for reading in bibs_db.searchable_readings(conn, event["id"], bib):
            pid = reading["photo_id"]
            if pid in found:
                if found[pid].found_by == "face":
                    found[pid].found_by = "both"
            else:
                found[pid] = Found(pid, "bib")
    return list(found.values()), bibs


def result_for(conn, event, found, notices=(), faces_in_selfies=(), encodings=()):
    """A SearchResult (matches carry ``found_by``) of Found values."""
    photos = photos_db.get_many(conn, [f.photo_id for f in found])
    summary = photos_db.checkpoint_summary(conn, event["id"])
    notices = list(notices)
    read = bibs_db.count_read(conn, event["id"])
    if summary["remaining"] or read < summary["scanned"]:
        notices.append({"code": "still_indexing", "indexed": min(read, summary["scanned"]),
                        "total": summary["total_photos"]})
    matches = [{"photo": photos[f.photo_id], "found_by": f.found_by,
                "distance": None if f.distance is None else round(float(f.distance), 4)}
               for f in found if f.photo_id in photos]
    return SearchResult(event["id"], matches, list(faces_in_selfies), summary["scanned"],
                        summary["total_photos"], summary["remaining"] == 0, notices,
                        list(encodings))
