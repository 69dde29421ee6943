"""Photographer accounts: sign-up, password sign-in and signed-in sessions.

Nothing here tells whether an email has an account: log-in checks a password
hash whether or not the email is known (same work, same answer), and sign-up
with a known email gives a neutral message (or signs in its owner).

Addresses under the ``.invalid`` top-level domain (RFC 6761: no mailbox can
exist there) belong to Phopy itself: the LINE bot's accounts are
``line-<userId>@line.phopy.invalid``. Nobody can sign up with one, so nobody
can make an account that a LINE user's ``register`` would later land in.
"""
import logging
import re
import secrets
import threading
import unicodedata

from werkzeug.security import check_password_hash, generate_password_hash

from phopy.data import events as events_db
from phopy.data import photographers
from phopy.errors import N_, ValidationError
from phopy.services import events as events_service
from phopy.services.text import clean_text

log = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
_dummy_lock = threading.Lock()
_dummy_hash = None


def normalize_email(email):
    """Trim and lower-case an email address; raise ValidationError if it is not one."""
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError(N_("Please enter a valid email address."), field="email")
    return email


def is_reserved_email(email):
    """True for an address in a domain Phopy keeps for its own accounts (``*.invalid``),
    however it is spelled (case, trailing dots, width or invisible characters)."""
    domain = (email or "").rpartition("@")[2]
    domain = "".join(c for c in unicodedata.normalize("NFKC", domain)
                     if unicodedata.category(c) != "Cf").lower().strip().rstrip(".")
    return domain == "invalid" or domain.endswith(".invalid")


def _dummy_password_hash():
    """A hash to check unknown emails against, so they take as long as known ones."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = generate_password_hash(secrets.token_hex(16))
        return _dummy_hash


def register(conn, email, password, display_name=None):
    """Create a photographer account and return it.

    A known email signs its owner in when the password is theirs; otherwise
    the answer does not say whether the email has an account.
    """
    email = normalize_email(email)
    if is_reserved_email(email):  # Phopy's own (LINE) accounts: never by sign-up
        raise ValidationError(N_("Please enter a valid email address."), field="email")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(N_("The password must be at least 8 characters."), field="password")
    existing = photographers.get_by_email(conn, email)
    if existing:
        if existing["password_hash"] and check_password_hash(existing["password_hash"], password):
            return existing
        raise ValidationError(N_("We could not create an account with these details. If you "
                                 "already have one, log in instead."), field="email")
    new_id = photographers.insert(conn, email, generate_password_hash(password),
                                  clean_text(display_name, 100) or None)
    return photographers.get(conn, new_id)


def authenticate(conn, email, password):
    """The photographer whose email and password match; else ValidationError.

    An unknown email costs one password check too, so timing tells nothing.
    """
    try:
        email = normalize_email(email)
    except ValidationError:
        email = None
    user = photographers.get_by_email(conn, email) if email else None
    stored = user["password_hash"] if user and user["password_hash"] else None
    ok = check_password_hash(stored or _dummy_password_hash(), password or "")
    if not (user and stored and ok):
        raise ValidationError(N_("Wrong email or password."))
    return user


def start_login_session(conn, photographer_id):
    """Record a new signed-in browser; return its random id for the session cookie."""
    session_id = secrets.token_urlsafe(32)
    photographers.insert_login_session(conn, session_id, photographer_id)
    return session_id


def session_photographer(conn, session_id, photographer_id):
    """The photographer of a live signed-in session, or None (logged out, unknown)."""
    if not isinstance(session_id, str) or not session_id:
        return None
    return photographers.get_by_login_session(conn, session_id, photographer_id)


def end_login_session(conn, session_id):
    """Log one browser out for good (its cookie stops working)."""
    if isinstance(session_id, str) and session_id:
        photographers.delete_login_session(conn, session_id)


def get_photographer(conn, photographer_id):
    """The photographer with this id, or None."""
    return photographers.get(conn, photographer_id)


def get_by_email(conn, email):
    """The photographer with this email, or None."""
    return photographers.get_by_email(conn, normalize_email(email))


def delete_account(conn, storage, photographer, password=None, email=None):
    """Delete a photographer's account for good: every event (photos, faces, files,
    searches, orders), then the account with its API keys, signed-in browsers and Google
    and LINE links. The owner proves it is them: the password, or (an account without
    one: Google or LINE sign-in) its e-mail typed again. Returns how many events went."""
    if photographer["password_hash"]:
        if not check_password_hash(photographer["password_hash"], password or ""):
            raise ValidationError(N_("That is not your password. Nothing was deleted."),
                                  field="password")
    elif (email or "").strip().lower() != photographer["email"].lower():
        raise ValidationError(N_("Type your account's e-mail address to confirm. Nothing "
                                 "was deleted."), field="email")
    owned = [e["id"] for e in events_db.list_for_owner(conn, photographer["id"])]
    for event_id in owned:
        events_service.delete_event(conn, storage, event_id, photographer["id"])
    with conn.transaction():
        photographers.delete(conn, photographer["id"])
    log.info("photographer account %s deleted with %d events", photographer["id"], len(owned))
    return len(owned)
