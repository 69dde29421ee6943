"""LINE attendees: selfies, joining events, matching, deleting their data.

A selfie's largest face is encoded and kept; the image is never stored.
Matching uses the same face index and matcher as the web search, and records
what it found (``line_matches``) so the gallery outlives the face data.
"""
import logging

from phopy.data import events as events_db
from phopy.data import line as line_db
from phopy.errors import N_, NoFaceFound, PhopyError
from phopy.faces import match_photos
from phopy.faces.search import decode_encoding, encode_encoding
from phopy.services.events import normalize_code
from phopy.services.photos import check_image_bytes
from phopy.services.search import SearchCache

log = logging.getLogger(__name__)
_cache = SearchCache()
# A second face at least this share of the largest one's area makes a selfie ambiguous.
AMBIGUOUS_FACE_SHARE = 0.4


class SeveralFaces(PhopyError):
    """Several faces of similar size: whose is it?"""

    status_code = 422
    code = "several_faces"


def save_selfie(conn, engine, user_id, data, max_bytes):
    """Encode the selfie's largest face and keep it (replacing the old one).

    Raises NoFaceFound, or SeveralFaces when another face is about as large.
    """
    check_image_bytes(data, max_bytes, "selfie")
    faces = engine.analyze_selfie(data)
    if not faces:
        raise NoFaceFound(N_("No face found in the selfie."))
    if len(faces) > 1 and faces[1].area >= AMBIGUOUS_FACE_SHARE * faces[0].area:
        raise SeveralFaces(N_("Several faces in the selfie."), faces=len(faces))
    with conn.transaction():
        line_db.set_face(conn, user_id, encode_encoding(faces[0].encoding, len(faces[0].encoding)))
    return len(faces)


def find_event(conn, code):
    """The event with this code (case-insensitive), or None."""
    return events_db.get_by_code(conn, normalize_code(code))


def join_event(conn, event, user_id):
    """Add the user to the event; True when newly joined."""
    with conn.transaction():
        return line_db.add_participant(conn, event["id"], user_id)


def match_user(conn, event_id, user_id, blob, settings):
    """Record the photos of the event the user is in; return (new_matches, first_time).

    ``first_time`` is True exactly once per user and event: when they are
    first found (the caller sends "found you" in the same transaction).
    """
    index = _cache.get_index(conn, event_id, settings)
    matches = match_photos(index, [decode_encoding(bytes(blob), index.size)], settings.tolerance)
    if not matches:
        return 0, False
    new = line_db.add_matches(conn, event_id, user_id, [m.photo_id for m in matches])
    first = line_db.mark_found_notified(conn, event_id, user_id)
    return new, first


def rematch_joined_events(conn, user_id, settings):
    """Match the user's current selfie again in every event they joined; return the
    open events where they are now found (to say so: a closed one's summary is out).

    A new selfie replaces the old one, so do its matches: photos only the old
    selfie matched (perhaps someone else's face) leave the user's gallery, and
    "found you" is said again for what the new one finds. Events whose face data
    was deleted keep what was found while it existed.
    """
    user = line_db.get_user(conn, user_id)
    blob = user and user["face_encoding"]
    if blob is None:
        return []
    first_found = []
    for event in line_db.joined_events_with_faces(conn, user_id):
        with conn.transaction():
            line_db.reset_matches(conn, event["id"], user_id)
            _new, first = match_user(conn, event["id"], user_id, blob, settings)
        if first and not event["closed_at"]:
            first_found.append(event)
    return first_found


def participants_to_match(conn, event_id):
    """Participants of the event that have a selfie: user_id, language, face_encoding."""
    return line_db.participants_with_faces(conn, event_id)


def participants(conn, event_id):
    """Every participant of the event."""
    return line_db.participants(conn, event_id)


def matched_photo_ids(conn, event_id, user_id):
    """Photos of the event the user was found in."""
    return line_db.matched_photo_ids(conn, event_id, user_id)


def mark_summary_sent(conn, event_id, user_id):
    """True the first time (the caller queues the summary in the same transaction)."""
    return line_db.mark_summary_sent(conn, event_id, user_id)


def delete_data(conn, user_id):
    """Delete the user's face data, participations and matches."""
    line_db.delete_user_data(conn, user_id)
