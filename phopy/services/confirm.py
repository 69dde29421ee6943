"""Matches an attendee can trust: two tiers, "this is me" / "not me", and confirmed
faces that find the rest.

A search session holds one attendee's selfie encodings for one event (the web
page's device, a REST caller, a LINE user) for ``SEARCH_SESSION_HOURS``. Each
answer of the session is computed from it:

- **your photos**: the photos ``match_photos`` finds within the engine's
  tolerance, with the selfies and every face the attendee confirmed as queries
  (a confirmed face counts as one more look, the multi-selfie rule), plus the
  confirmed photos, minus the photos they said "not me" to;
- **is this you?**: faces in the borderline band (tolerance to ``borderline``)
  of any one query, one per photo, closest first, at most ``max_asked`` at a
  time, never a photo already answered. Only faces offered to the session can
  be answered, once per photo.

After each answer the search runs again, so confirmed photos bring in the
attendee's other photos until nothing new comes.
"""
import logging
import secrets
from dataclasses import dataclass, field

from phopy.data import photos as photos_db
from phopy.data import search_sessions as sessions_db
from phopy.data.timeutil import unix_now
from phopy.errors import N_, NotFound, ValidationError
from phopy.faces.engine import engine_key
from phopy.faces.search import decode_encoding, encode_encoding, two_tiers
from phopy.jobs.registry import job
from phopy.jobs.schedule import periodic

log = logging.getLogger(__name__)
ANSWERS = ("me", "not_me")
MAX_ASKED = 12


@dataclass
class Tiers:
    """One answer of a session: its photos and the faces it is asked about."""

    session_id: str
    event_id: str
    yours: list = field(default_factory=list)  # {"photo", "distance", "face_id", "confirmed"}
    ask: list = field(default_factory=list)    # {"face_id", "photo_id", "distance"}
    confirmed: int = 0
    rejected: int = 0
    rejected_photos: list = field(default_factory=list)  # photo ids answered "not me"


def engine_label(settings):
    """How a session records the engine of its encodings."""
    return ":".join(engine_key(settings))


def start(conn, settings, event_id, encodings, owner, hours):
    """A new session for these selfie encodings; its id (random, secret)."""
    size = settings.profile.size
    session_id = secrets.token_urlsafe(24)
    blob = b"".join(encode_encoding(e, size) for e in encodings)
    with conn.transaction():
        sessions_db.create(conn, session_id, event_id, owner, engine_label(settings), blob,
                           len(encodings), unix_now() + float(hours) * 3600)
    return session_id


def renew(conn, settings, event_id, encodings, owner, hours):
    """The owner's live session of the event with these encodings, its answers kept (a
    LINE user has one per event); a new one when there is none. Its id."""
    session = sessions_db.latest_for_owner(conn, event_id, owner)
    if session is None:
        return start(conn, settings, event_id, encodings, owner, hours)
    size = settings.profile.size
    with conn.transaction():
        sessions_db.replace_encodings(
            conn, session["id"], engine_label(settings),
            b"".join(encode_encoding(e, size) for e in encodings), len(encodings),
            unix_now() + float(hours) * 3600)
    return session["id"]


def offered(conn, session):
    """Faces the session was already asked about."""
    return sessions_db.offered_faces(conn, session["id"], "ask")


def get_session(conn, session_id, event_id=None, owner=None):
    """The live session (of this event and owner, when given), or NotFound."""
    session = sessions_db.get(conn, str(session_id or ""))
    if (session is None or (event_id is not None and session["event_id"] != event_id)
            or (owner is not None and session["owner"] != owner)):
        raise NotFound(N_("This search has ended. Search again with your selfie."))
    return session


def _queries(conn, session, settings, answers):
    size = settings.profile.size
    blob = bytes(session["encodings"])
    step = size * 4
    queries = [decode_encoding(blob[i:i + step], size) for i in range(0, len(blob), step)]
    confirmed = [a["face_id"] for a in answers.values() if a["answer"] == "me"]
    faces = sessions_db.face_encodings(conn, session["event_id"], confirmed,
                                       *engine_key(settings))
    queries += [decode_encoding(faces[f], size) for f in confirmed if f in faces]
    return queries


def tiers(conn, cache, settings, session, max_asked=MAX_ASKED):
    """The session's answer now: your photos and the faces to ask about (recorded as
    offered, so that they can be answered)."""
    event_id = session["event_id"]
    if session["engine"] != engine_label(settings):  # the engine changed since: start again
        raise NotFound(N_("This search has ended. Search again with your selfie."))
    answers = sessions_db.answers(conn, session["id"])
    not_me = {p for p, a in answers.items() if a["answer"] == "not_me"}
    confirmed = {p: a for p, a in answers.items() if a["answer"] == "me"}
    index = cache.get_index(conn, event_id, settings)
    queries = _queries(conn, session, settings, answers)
    yours, asked = two_tiers(index, queries, settings.tolerance, settings.borderline,
                             {p: (a["face_id"], a["answer"]) for p, a in answers.items()},
                             max_asked)
    shown = {p for p, *_ in yours}
    with conn.transaction():
        sessions_db.add_offers(conn, session["id"],
                               [(face, photo, "yours") for photo, _d, face, _c in yours]
                               + [(m.face_id, m.photo_id, "ask") for m in asked])
    rows = photos_db.get_many(conn, list(shown))
    result = Tiers(session["id"], event_id, confirmed=len(confirmed), rejected=len(not_me),
                   rejected_photos=sorted(not_me))
    result.yours = [{"photo": rows[p], "distance": round(float(d), 4), "face_id": f,
                     "confirmed": c}
                    for p, d, f, c in sorted(yours, key=lambda y: (not y[3], y[1], y[0]))
                    if p in rows]
    result.ask = [{"face_id": m.face_id, "photo_id": m.photo_id,
                   "distance": round(float(m.distance), 4)} for m in asked]
    return result


def answer(conn, session, face_id, choice):
    """Record "me" or "not_me" for a face offered to the session; True when it is new
    (a replay, or a second answer for the same photo, changes nothing)."""
    if choice not in ANSWERS:
        raise ValidationError(N_("Answer with “This is me” or “Not me”."), field="answer")
    try:
        face_id = int(face_id)
    except (TypeError, ValueError):
        raise ValidationError(N_("This face was not shown to you."), field="face_id") from None
    offer = sessions_db.get_offer(conn, session["id"], face_id)
    if offer is None:
        raise ValidationError(N_("This face was not shown to you."), field="face_id")
    event_id = session["event_id"]
    with conn.transaction():
        if not sessions_db.add_answer(conn, session["id"], offer["photo_id"], face_id, choice):
            return False
        if choice == "me":
            if sessions_db.count_answers(conn, session["id"], "me") == 1:
                sessions_db.add_to_totals(conn, event_id, 0, confirmed=1)
            sessions_db.add_to_totals(conn, event_id, offer["photo_id"], confirmed=1)
        else:
            sessions_db.add_to_totals(conn, event_id, offer["photo_id"], rejected=1)
    return True


def end(conn, session):
    """Forget the session now (its encodings and answers)."""
    sessions_db.delete(conn, session["id"])


def event_feedback(conn, event_id):
    """What a photographer sees: searches that confirmed, "not me" answers, and the
    photos several attendees said "not me" to (likely false matches)."""
    confirmed, rejected, photos = sessions_db.event_totals(conn, event_id)
    return {"sessions_confirmed": confirmed, "not_me_answers": rejected,
            "often_rejected": [{"photo_id": p["photo_id"], "filename": p["filename"],
                                "rejections": p["rejected"]} for p in photos]}


@job("prune_search_sessions", max_attempts=3)
def prune_search_sessions(ctx):
    """Delete search sessions past SEARCH_SESSION_HOURS (their encodings and answers)."""
    removed = sessions_db.delete_expired(ctx.conn)
    log.info("deleted %d expired search sessions", removed)
    return {"removed": removed}


periodic("prune-search-sessions", "prune_search_sessions", 900)
