"""Events: create with code and QR, look up, list, delete."""
import io
import re
import secrets
import uuid
from datetime import date

import qrcode

from phopy import storage as keys
from phopy.data import events as events_db
from phopy.errors import N_, Message, NotFound, ValidationError
from phopy.services.text import clean_text

# No look-alikes: no 0/O, 1/I/L, 5/S, 2/Z, 8/B.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
NAME_MIN, NAME_MAX = 3, 100


def clean_name(name):
    """A valid event name (3–100 characters after cleaning) or ValidationError."""
    cleaned = clean_text(name, 1000)
    if not NAME_MIN <= len(cleaned) <= NAME_MAX:
        raise ValidationError(N_("The event name must be 3 to 100 characters."), field="name")
    return cleaned


def clean_date(value):
    """An ISO date string, None for empty, or ValidationError."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationError(N_("The date must look like 2026-12-31."), field="event_date")


def normalize_code(code):
    """Upper-case a typed attendee code and drop spaces and dashes."""
    return re.sub(r"[\s-]", "", code or "").upper()


def new_code(conn):
    """A fresh, unused attendee code."""
    for _ in range(50):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not events_db.code_exists(conn, code):
            return code
    raise RuntimeError("could not find a free event code")


def public_url(base_url, code):
    """The attendee page address printed in the QR code."""
    return f"{base_url.rstrip('/')}/e/{code}"


def make_qr_png(url):
    """A QR code PNG (bytes) for the URL."""
    img = qrcode.make(url, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def create_event(conn, storage, owner_id, name, *, base_url, event_date=None, location=None,
                 description=None, is_listed=False):
    """Create an event with its code and QR code; return the stored event."""
    event = {
        "id": str(uuid.uuid4()),
        "owner_id": owner_id,
        "name": clean_name(name),
        "event_date": clean_date(event_date),
        "location": clean_text(location, 200) or None,
        "description": clean_text(description, 2000) or None,
        "is_listed": bool(is_listed),
    }
    with conn.transaction():
        event["code"] = new_code(conn)
        events_db.insert(conn, event)
    storage.save(keys.qr_key(event["id"]), make_qr_png(public_url(base_url, event["code"])))
    return events_db.get(conn, event["id"])


def get_event(conn, event_id):
    """The event, or NotFound."""
    event = events_db.get(conn, event_id) if event_id else None
    if not event:
        raise NotFound(N_("This event does not exist."))
    return event


def get_event_by_code(conn, code):
    """The event with this attendee code, or NotFound."""
    event = events_db.get_by_code(conn, normalize_code(code))
    if not event:
        raise NotFound(N_("No event has this code. Check the code and try again."))
    return event


def attendee_view(event):
    """What the attendee page shows to anyone holding the code.

    A code is an invitation, so the event's name shows (attendees check they are
    in the right place). An unlisted event keeps its date, place and
    description to its photographer: a guessed or leaked code reveals no more
    than a name, and photos still only come back for a matching face.
    """
    view = dict(event)
    if not event["is_listed"]:
        view.update(event_date=None, location=None, description=None)
    return view


def get_owned_event(conn, event_id, owner_id):
    """The event if it belongs to this photographer; NotFound otherwise."""
    event = events_db.get(conn, event_id) if event_id else None
    if not event or event["owner_id"] != owner_id:
        raise NotFound(N_("This event does not exist."))
    return event


def list_owner_events(conn, owner_id):
    """The photographer's events with counts."""
    return events_db.list_for_owner(conn, owner_id)


def list_public_events(conn):
    """Events listed on /events."""
    return events_db.list_public(conn)


def set_listed(conn, event_id, owner_id, listed):
    """List or unlist an event on /events."""
    get_owned_event(conn, event_id, owner_id)
    events_db.update_settings(conn, event_id, is_listed=listed)


def set_auto_index(conn, event_id, owner_id, enabled):
    """Turn indexing after upload on or off for an event."""
    get_owned_event(conn, event_id, owner_id)
    events_db.update_settings(conn, event_id, auto_index=enabled)


def delete_event(conn, storage, event_id, owner_id):
    """Delete the photographer's event with its photos, faces and files."""
    get_owned_event(conn, event_id, owner_id)
    events_db.delete(conn, event_id)
    for prefix in keys.event_prefixes(event_id):
        storage.delete_prefix(prefix)
    storage.delete(keys.qr_key(event_id))


EDITABLE = {"name": str, "event_date": str, "location": str, "description": str,
            "is_listed": bool, "auto_index": bool}


def check_event_fields(fields, *, partial):
    """Cleaned columns from an API body; ValidationError for unknown fields or wrong types."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationError(Message(N_("Unknown field: %(name)s."), name=unknown[0]),
                              field=unknown[0])
    if not partial and "name" not in fields:
        raise ValidationError(N_("The event name must be 3 to 100 characters."), field="name")
    if partial and not fields:
        raise ValidationError(N_("Send at least one field to change."))
    cleaned = {}
    for name, value in fields.items():
        kind = EDITABLE[name]
        nullable = kind is str and name != "name"
        if not (isinstance(value, kind) or (value is None and nullable)):
            message = (N_("%(name)s must be true or false.") if kind is bool
                       else N_("%(name)s must be a string."))
            raise ValidationError(Message(message, name=name), field=name)
        if name == "name":
            cleaned[name] = clean_name(value)
        elif name == "event_date":
            cleaned[name] = clean_date(value)
        elif kind is bool:
            cleaned[name] = int(value)
        else:
            cleaned[name] = clean_text(value, 200 if name == "location" else 2000) or None
    return cleaned


def update_event(conn, event_id, owner_id, fields):
    """Change an event's details and switches (a cleaned dict); return the event."""
    get_owned_event(conn, event_id, owner_id)
    events_db.update_details(conn, event_id, fields)
    return events_db.get(conn, event_id)
