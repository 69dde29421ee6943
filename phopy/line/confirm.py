""""Is this you?" in LINE: after an attendee joins an event, the faces the search is
unsure of come as a carousel of face crops (the face only, never the photo) with
"This is me" / "Not me" postback buttons; each answer is a postback event.

The LINE user is the search session's owner (``line:<userId>``, one live session per
event, renewed with each join or new selfie, its answers kept). Confirmed photos join
the user's matches (their gallery and summary), "not me" photos leave them for good,
and confirmed faces search again: new photos join, new faces are asked about.
"""
import logging

from phopy.data import events as events_db
from phopy.data import line as line_db
from phopy.data import search_sessions as sessions_db
from phopy.errors import N_, NotFound, ValidationError
from phopy.faces.search import decode_encoding
from phopy.line import messages
from phopy.services import confirm, links

log = logging.getLogger(__name__)
PREFIX = "phopy-answer"   # postback data: phopy-answer|<me|not_me>|<session>|<face id>
CAROUSEL_MAX = 10         # faces in one carousel (LINE allows 12 bubbles)


def owner(user_id):
    return f"line:{user_id}"


def _crop_url(config, event_id):
    signer = links.link_signer(config["SECRET_KEY"])
    base = config["PUBLIC_BASE_URL"].rstrip("/")
    return lambda face_id: f"{base}/f/{links.sign_face(signer, event_id, face_id)}"


def _sync_matches(conn, tiers, user_id):
    """The user's matches follow the session: its photos in, "not me" photos out."""
    line_db.add_matches(conn, tiers.event_id, user_id, [y["photo"]["id"] for y in tiers.yours])
    line_db.remove_matches(conn, tiers.event_id, user_id, tiers.rejected_photos)


def _ask(lc, event, tiers, faces):
    if not faces:
        return []
    return messages.is_this_you(lc.lang, event, tiers.session_id, faces[:CAROUSEL_MAX],
                                _crop_url(lc.config, event["id"]), PREFIX)


def offer(lc, event, blob):
    """Start or renew the user's session with their selfie ``blob``; the messages asking
    about the event's borderline faces (empty when there are none)."""
    cache, settings = lc.job.search
    encoding = decode_encoding(bytes(blob), settings.profile.size)
    session_id = confirm.renew(lc.conn, settings, event["id"], [encoding],
                               owner(lc.user_id), lc.config.get("SEARCH_SESSION_HOURS", 24))
    session = confirm.get_session(lc.conn, session_id)
    tiers = confirm.tiers(lc.conn, cache, settings, session,
                          min(CAROUSEL_MAX, lc.config.get("SEARCH_MAX_ASKED", 12)))
    _sync_matches(lc.conn, tiers, lc.user_id)
    return _ask(lc, event, tiers, tiers.ask)


def parse(data):
    """(answer, session id, face id) of one of our postbacks, or None."""
    parts = str(data or "").split("|")
    if len(parts) != 4 or parts[0] != PREFIX or parts[1] not in confirm.ANSWERS:
        return None
    return parts[1], parts[2], parts[3]


def answered(lc):
    """A postback: "This is me" / "Not me" for a face; the reply says what changed and
    asks about the faces the answer brought in."""
    parsed = parse((lc.event.get("postback") or {}).get("data"))
    if parsed is None or lc.group_id or not lc.user_id:
        return
    choice, session_id, face_id = parsed
    try:
        session = confirm.get_session(lc.conn, session_id, owner=owner(lc.user_id))
    except NotFound:
        return lc.reply(messages.question_expired(lc.lang))
    event = events_db.get(lc.conn, session["event_id"])
    if event is None or event.get("faces_purged_at"):
        return lc.reply(messages.search_ended(lc.lang, event or {"name": ""}))
    try:
        new = confirm.answer(lc.conn, session, face_id, choice)
    except ValidationError:
        return lc.reply(messages.not_offered(lc.lang))
    if not new:
        return lc.reply(messages.already_answered(lc.lang))
    cache, settings = lc.job.search
    asked_before = confirm.offered(lc.conn, session)
    tiers = confirm.tiers(lc.conn, cache, settings, session,
                          min(CAROUSEL_MAX, lc.config.get("SEARCH_MAX_ASKED", 12)))
    with lc.conn.transaction():
        _sync_matches(lc.conn, tiers, lc.user_id)
    fresh = [face for face in tiers.ask if face["face_id"] not in asked_before]
    log.info("LINE user answered %s for face %s of event %s (%d new to ask)", choice,
             face_id, event["id"], len(fresh))
    lc.reply(messages.answer_taken(lc.lang, choice, len(tiers.yours))
             + _ask(lc, event, tiers, fresh))


# -- the gallery page (the "we found you" push and the summary link to it) -----------
def page_tiers(conn, search, event, user_id, max_asked):
    """The user's live session answered again for their gallery page (their matches
    follow it), or None: no session, the face data was deleted, or the engine changed."""
    if event.get("faces_purged_at"):
        return None
    session = sessions_db.latest_for_owner(conn, event["id"], owner(user_id))
    if session is None:
        return None
    cache, settings = search
    try:
        tiers = confirm.tiers(conn, cache, settings, session, max_asked)
    except NotFound:
        return None
    with conn.transaction():
        _sync_matches(conn, tiers, user_id)
    return tiers


def page_answer(conn, search, event, user_id, face_id, choice, max_asked):
    """"This is me" / "Not me" from the gallery page: the same answer as a postback."""
    session = None if event.get("faces_purged_at") else sessions_db.latest_for_owner(
        conn, event["id"], owner(user_id))
    if session is None:
        raise NotFound(N_("This question has expired. Type your event code again to see "
                          "what is left."))
    new = confirm.answer(conn, session, face_id, choice)
    log.info("LINE user answered %s for face %s of event %s on the gallery page", choice,
             face_id, event["id"])
    page_tiers(conn, search, event, user_id, max_asked)  # their matches follow at once
    return new
