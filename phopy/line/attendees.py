"""LINE attendees: selfies, joining events, matching, deleting their data.

A selfie's largest face is encoded and kept with the engine that made it; the
image is never stored. Matching goes through the same search as the web
(``phopy.services.search.match_encodings``: the process's search cache, the
running engine's faces and tolerance), and records what it found
(``line_matches``) so the gallery outlives the face data. A selfie another
engine made (the deployment switched ``FACE_ENGINE``) is not compared with
anything: the attendee is asked for a new one.

An attendee of a running event may type their bib number instead of (or as well
as) sending a selfie: it is searched like the web's search by bib (through
``phopy.services.bib_hooks``), its photos go into the same matches, and it is
remembered (``line_bibs``) so that photos of it read later find them too.
"""
import logging

from phopy.data import events as events_db
from phopy.data import line as line_db
from phopy.data import line_bibs as line_bibs_db
from phopy.data import search_sessions as sessions_db
from phopy.data.timeutil import unix_now
from phopy.errors import N_, NoFaceFound, PhopyError
from phopy.faces.engine import engine_key
from phopy.faces.search import decode_encoding, encode_encoding
from phopy.faces.settings import PROFILES
from phopy.services import bib_hooks
from phopy.services.events import normalize_code
from phopy.services.search import check_selfie, match_encodings

log = logging.getLogger(__name__)
# A second face at least this share of the largest one's area makes a selfie ambiguous.
AMBIGUOUS_FACE_SHARE = 0.4
MAX_BIBS = 5  # bibs remembered per attendee and event (the newest typed)


class SeveralFaces(PhopyError):
    """Several faces of similar size: whose is it?"""

    status_code = 422
    code = "several_faces"


def engine_label(settings):
    """How a selfie's engine is stored: "engine:model version"."""
    return ":".join(engine_key(settings))


def save_selfie(conn, engine, user_id, data, max_bytes, max_pixels):
    """Encode the selfie's largest face and keep it (replacing the old one).

    Its size and declared pixels are checked before it is decoded, as every
    selfie's are. Raises NoFaceFound, or SeveralFaces when another face is
    about as large.
    """
    check_selfie(data, max_bytes, max_pixels)
    faces = engine.analyze_selfie(data)
    if not faces:
        raise NoFaceFound(N_("No face found in the selfie."))
    if len(faces) > 1 and faces[1].area >= AMBIGUOUS_FACE_SHARE * faces[0].area:
        raise SeveralFaces(N_("Several faces in the selfie."), faces=len(faces))
    with conn.transaction():
        line_db.set_face(conn, user_id, encode_encoding(faces[0].encoding,
                                                        engine.settings.profile.size),
                         engine_label(engine.settings))
    return len(faces)


def usable_face(person, settings):
    """The stored selfie encoding when the running engine made it, else None.

    Selfies stored before engines were recorded carry no label: the only
    engines of that time had 128 (dlib) or 512 (MobileFaceNet) values.
    """
    blob = person and person.get("face_encoding")
    if blob is None:
        return None
    blob = bytes(blob)
    label = person.get("face_engine")
    if label is None:
        size = len(blob) // 4
        label = next((f"{name}:" for name, profile in PROFILES.items()
                      if name in ("dlib", "mobilefacenet") and profile.size == size), None)
        if label is None or not engine_label(settings).startswith(label):
            return None
        return blob
    return blob if label == engine_label(settings) else None


def find_event(conn, code):
    """The event with this code (case-insensitive), or None."""
    return events_db.get_by_code(conn, normalize_code(code))


def _code_limit(config):
    """(attempts, seconds) of CODE_LOOKUP_RATE_LIMIT, the web's limit on wrong codes."""
    from limits import parse  # flask-limiter's own parser: the same syntax as the web's
    item = parse(config.get("CODE_LOOKUP_RATE_LIMIT") or "30 per minute")
    return item.amount, item.get_expiry()


def too_many_wrong_codes(conn, user_id, config):
    """Whether the user typed CODE_LOOKUP_RATE_LIMIT wrong codes in the current window."""
    amount, seconds = _code_limit(config)
    return line_db.code_misses(conn, user_id, unix_now() - seconds) >= amount


def record_wrong_code(conn, user_id, config):
    """Count a wrong event code the user typed."""
    _amount, seconds = _code_limit(config)
    with conn.transaction():
        line_db.record_code_miss(conn, user_id, unix_now() - seconds)


def join_event(conn, event, user_id):
    """Add the user to the event; True when newly joined."""
    with conn.transaction():
        return line_db.add_participant(conn, event["id"], user_id)


def match_user(conn, search, event_id, user_id, blob):
    """Record the photos of the event the user is in; return (new_matches, first_time).

    ``search`` is ``(cache, settings)``: the process's search cache and the running
    engine's settings. ``first_time`` is True exactly once per user and event:
    when they are first found (the caller sends "found you" in the same transaction).
    """
    cache, settings = search
    matches = match_encodings(conn, cache, settings, event_id,
                              [decode_encoding(bytes(blob), settings.profile.size)])
    confirmed, rejected = session_answers(conn, event_id, user_id)
    found = [m.photo_id for m in matches if m.photo_id not in rejected] + sorted(confirmed)
    if not found:
        return 0, False
    new = line_db.add_matches(conn, event_id, user_id, found)
    first = line_db.mark_found_notified(conn, event_id, user_id)
    return new, first


def session_answers(conn, event_id, user_id):
    """(confirmed, rejected) photo ids of the user's live "is this you?" session of the
    event: while it lasts, no new selfie, new photo or re-match drops a photo they said
    "This is me" to, or brings back one they said "Not me" to."""
    session = sessions_db.latest_for_owner(conn, event_id, f"line:{user_id}")
    if session is None:
        return set(), set()
    answers = sessions_db.answered_photos(conn, session["id"])
    return ({p for p, a in answers if a == "me"}, {p for p, a in answers if a == "not_me"})


def takes_bibs(conn, config, event_id):
    """Whether the event's attendees may search by bib number (a running event)."""
    return bib_hooks.bib_search_on(conn, config, event_id)


def bib_events(conn, config, user_id, text):
    """[(event, bib)]: the events the user joined (face data kept, latest joined first)
    where ``text`` is a bib number: bib search on and it fits the event's pattern."""
    found = []
    for event in reversed(line_db.joined_events_with_faces(conn, user_id)):
        bib = bib_hooks.bib_of(conn, config, event["id"], text)
        if bib is not None:
            found.append((event, bib))
    return found


def remember_bib(conn, event_id, user_id, bib):
    """Remember the bib the user typed for the event (their MAX_BIBS newest are kept)."""
    line_bibs_db.remember(conn, event_id, user_id, bib, MAX_BIBS)


def match_bib(conn, search, event, user_id, bib):
    """Record the photos of the event found by the bib (the web's search by bib, less
    the photos the user said "Not me" to); return ([(photo_id, found_by)], first_time)
    like :func:`match_user`."""
    _confirmed, rejected = session_answers(conn, event["id"], user_id)
    found = [(photo_id, why) for photo_id, why in
             bib_hooks.find_by_bib(conn, search, event, bib) if photo_id not in rejected]
    if not found:
        return [], False
    line_db.add_matches(conn, event["id"], user_id, [photo_id for photo_id, _why in found])
    return found, line_db.mark_found_notified(conn, event["id"], user_id)


def match_remembered_bibs(conn, config, search, event, user_id):
    """Match the bibs the user typed for the event again; True when they were found
    for the first time. A bib the event no longer takes (bib search turned off, a new
    pattern) finds nothing."""
    first = False
    for bib in line_bibs_db.bibs_of(conn, event["id"], user_id):
        if bib_hooks.bib_of(conn, config, event["id"], bib) == bib:
            first = match_bib(conn, search, event, user_id, bib)[1] or first
    return first


def participants_with_bibs(conn, event_id):
    """{user_id: language} of the event's participants who typed a bib number."""
    return {r["user_id"]: r["language"] for r in line_bibs_db.for_event(conn, event_id)}


def rematch_joined_events(conn, search, user_id, config):
    """Match the user's current selfie again in every event they joined; return the
    open events where they are now found (to say so: a closed one's summary is out).

    A new selfie replaces the old one, so do its matches: photos only the old
    selfie matched (perhaps someone else's face) leave the user's gallery, and
    "found you" is said again for what the new one finds. Events whose face data
    was deleted keep what was found while it existed. The bibs the user typed find
    their photos again too.
    """
    blob = usable_face(line_db.get_user(conn, user_id), search[1])
    if blob is None:
        return []
    first_found = []
    for event in line_db.joined_events_with_faces(conn, user_id):
        with conn.transaction():
            line_db.reset_matches(conn, event["id"], user_id)
            _new, first = match_user(conn, search, event["id"], user_id, blob)
            first = match_remembered_bibs(conn, config, search, event, user_id) or first
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
    """Delete the user's face data, participations, matches, the bib numbers they typed
    and search sessions ("is this you?": their selfie's encodings and answers)."""
    with conn.transaction():
        line_db.delete_user_data(conn, user_id)
        sessions_db.delete_for_owner(conn, f"line:{user_id}")
