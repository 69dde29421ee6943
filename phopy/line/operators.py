"""LINE operators and groups: register, link a web account, add and connect groups,
start, close and report events run from a group.
"""
import logging
import secrets

from phopy.data import events as events_db
from phopy.data import line as line_db
from phopy.data import photographers
from phopy.data import photos as photos_db
from phopy.services import events as events_service
from phopy.services import retention

log = logging.getLogger(__name__)

REGISTER_CODE_TTL = 24 * 3600   # the dashboard's "Connect LINE" code
GROUP_TOKEN_TTL = 3600          # "add group" link token: 1 hour
TOKEN_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def _new_token(length=8):
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(length))


def remember_user(conn, user_id, profile=None):
    """Create or refresh the LINE user row from a profile dict; return the row."""
    profile = profile or {}
    line_db.upsert_user(conn, user_id, profile.get("display_name"), profile.get("language"))
    return line_db.get_user(conn, user_id)


def get_user(conn, user_id):
    """The LINE user row, or None."""
    return line_db.get_user(conn, user_id) if user_id else None


def new_register_code(conn, photographer_id):
    """A one-time code that links the photographer's web account to a LINE user."""
    token = _new_token()
    line_db.insert_token(conn, token, "register", REGISTER_CODE_TTL,
                         photographer_id=photographer_id)
    return token


def linked_line_users(conn, photographer_id):
    """Every LINE user operating this photographer account."""
    return line_db.users_for_photographer(conn, photographer_id)


def unlink_operator(conn, photographer_id, user_id):
    """The account's owner unlinks one of its LINE operators; their row, or None when
    they were not an operator of this account."""
    user = line_db.get_user(conn, user_id)
    if not user or user["photographer_id"] != photographer_id:
        return None
    if not line_db.unlink_user(conn, user_id, photographer_id):
        return None
    log.info("LINE operator %s unlinked from account %s", user_id, photographer_id)
    return user


def leave(conn, user_id):
    """The LINE user stops being an operator; the account they ran, or None."""
    user = line_db.get_user(conn, user_id) if user_id else None
    if not user or not user["photographer_id"]:
        return None
    account = photographers.get(conn, user["photographer_id"])
    if not line_db.unlink_user(conn, user_id, user["photographer_id"]):
        return None
    log.info("LINE operator %s left account %s", user_id, user["photographer_id"])
    return account


def register(conn, user_id, code=None):
    """Make the LINE user an operator.

    With ``code`` (from the dashboard) the user is linked to that existing
    account; otherwise a new photographer account is created for them.
    Returns ("created" | "linked" | "already" | "bad_code", photographer row or None).
    """
    with conn.transaction():
        user = line_db.get_user(conn, user_id)
        if code:
            token = line_db.use_token(conn, code.strip().upper(), "register")
            if token is None:
                return "bad_code", None
            line_db.set_user_photographer(conn, user_id, token["photographer_id"])
            return "linked", photographers.get(conn, token["photographer_id"])
        if user and user["photographer_id"]:
            return "already", photographers.get(conn, user["photographer_id"])
        name = (user or {}).get("display_name") or "LINE"
        email = f"line-{user_id.lower()}@line.phopy.invalid"
        existing = photographers.get_by_email(conn, email)
        photographer_id = existing["id"] if existing else photographers.insert(
            conn, email, None, name[:100])
        line_db.set_user_photographer(conn, user_id, photographer_id)
        return "created", photographers.get(conn, photographer_id)


def new_group_token(conn, user):
    """A one-time token (1 hour) with which this operator connects a group."""
    token = _new_token()
    line_db.insert_token(conn, token, "group", GROUP_TOKEN_TTL,
                         photographer_id=user["photographer_id"], user_id=user["user_id"])
    return token


def joined_group(conn, group_id, name=None):
    """The bot was added to a group."""
    line_db.upsert_group(conn, group_id, name)


def connect_group(conn, group_id, user_id, token=None):
    """Link a group to the account of the operator who typed 'add group'.

    Returns "connected", "refused" (no valid token of an operator) or "owned":
    the group belongs to another account, and stays there until one of that
    account's operators disconnects it ('Phopy disconnect'). The token is only
    used up when the group is linked.
    """
    with conn.transaction():
        line_db.upsert_group(conn, group_id)
        user = line_db.get_user(conn, user_id) if user_id else None
        if token:
            row = line_db.peek_token(conn, token.strip().upper(), "group")
        elif user and user["photographer_id"]:
            row = line_db.latest_open_token(conn, "group", user_id)
        else:
            row = None
        if row and row["user_id"]:  # the token's operator must still run its account
            owner = line_db.get_user(conn, row["user_id"])
            if not owner or owner["photographer_id"] != row["photographer_id"]:
                row = None
        if not row:
            return "refused"
        group = line_db.get_group(conn, group_id)
        if group["photographer_id"] and group["photographer_id"] != row["photographer_id"]:
            log.warning("group %s belongs to account %s: connecting it to %s refused",
                        group_id, group["photographer_id"], row["photographer_id"])
            return "owned"
        if not line_db.use_token(conn, row["token"], "group") or not line_db.link_group(
                conn, group_id, row["photographer_id"], row["user_id"] or user_id):
            return "refused"
        return "connected"


def disconnect_group(conn, group_id, user_id):
    """Free a group from its account (an operator of that account, no open event).

    Returns "disconnected", "not_linked", "not_operator" or "event_open"."""
    with conn.transaction():
        group = line_db.get_group(conn, group_id)
        if not group or not group["photographer_id"]:
            return "not_linked"
        if not is_group_operator(conn, group, user_id):
            return "not_operator"
        if line_db.open_event_for_group(conn, group_id):
            return "event_open"
        line_db.unlink_group(conn, group_id, group["photographer_id"])
        return "disconnected"


def get_group(conn, group_id):
    """The group row (None when the bot never saw it)."""
    return line_db.get_group(conn, group_id)


def is_group_operator(conn, group, user_id):
    """Whether the user runs this linked group: an operator of the account it belongs to."""
    if not (group and group["photographer_id"] and user_id):
        return False
    user = line_db.get_user(conn, user_id)
    return bool(user and user["photographer_id"] == group["photographer_id"])


def takes_photo_from(conn, group, event, user_id):
    """Whether a photo this user sent in the group goes into the event: an operator's
    always, anyone's when the event takes everyone's ('Phopy photos everyone')."""
    return event.get("photos_from") == "everyone" or is_group_operator(conn, group, user_id)


def set_photos_from(conn, event_id, photos_from):
    """Whose group photos the event takes: 'operators' (the default) or 'everyone'."""
    with conn.transaction():
        line_db.set_photos_from(conn, event_id, photos_from)


def open_event(conn, group_id):
    """The group's open event, or None."""
    return line_db.open_event_for_group(conn, group_id)


def start_event(conn, storage, group, user_id, name, *, base_url):
    """Create a normal event for the group; (event, created) — one open event per group."""
    current = line_db.open_event_for_group(conn, group["group_id"])
    if current:
        return current, False
    event = events_service.create_event(conn, storage, group["photographer_id"], name,
                                        base_url=base_url)
    with conn.transaction():
        if line_db.open_event_for_group(conn, group["group_id"]):
            events_db.delete(conn, event["id"])
            return line_db.open_event_for_group(conn, group["group_id"]), False
        line_db.insert_event_group(conn, event["id"], group["group_id"], user_id)
    return event, True


def event_counts(conn, event_id):
    """Photos, faces and participants of an event so far."""
    summary = photos_db.checkpoint_summary(conn, event_id)
    return {"photos": summary["total_photos"], "faces": summary["faces"],
            "people": line_db.count_participants(conn, event_id)}


def close_event(conn, event_id):
    """Close a group event (idempotent); True when this call closed it."""
    with conn.transaction():
        closed = line_db.close_event_group(conn, event_id)
        retention.mark_closed(conn, event_id)
    return closed


def idle_events(conn, idle_seconds):
    """Ids of open group events with no photo for ``idle_seconds``."""
    return [r["event_id"] for r in line_db.idle_open_events(conn, idle_seconds)]


def event_group(conn, event_id):
    """The LINE row of an event (group id…), or None."""
    return line_db.event_group(conn, event_id)
