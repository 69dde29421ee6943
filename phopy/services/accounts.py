"""Photographer accounts: sign-up and password sign-in."""
import re

from werkzeug.security import check_password_hash, generate_password_hash

from phopy.data import photographers
from phopy.errors import N_, Conflict, ValidationError

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def normalize_email(email):
    """Trim and lower-case an email address; raise ValidationError if it is not one."""
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError(N_("Please enter a valid email address."), field="email")
    return email


def register(conn, email, password, display_name=None):
    """Create a photographer account and return it."""
    email = normalize_email(email)
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(N_("The password must be at least 8 characters."), field="password")
    if photographers.get_by_email(conn, email):
        raise Conflict(N_("An account with this email already exists."), field="email")
    new_id = photographers.insert(conn, email, generate_password_hash(password),
                                  (display_name or "").strip()[:100] or None)
    return photographers.get(conn, new_id)


def authenticate(conn, email, password):
    """The photographer whose email and password match; else ValidationError."""
    try:
        email = normalize_email(email)
    except ValidationError:
        email = None
    user = photographers.get_by_email(conn, email) if email else None
    if not user or not user["password_hash"] or not check_password_hash(
            user["password_hash"], password or ""):
        raise ValidationError(N_("Wrong email or password."))
    return user


def get_photographer(conn, photographer_id):
    """The photographer with this id, or None."""
    return photographers.get(conn, photographer_id)


def get_by_email(conn, email):
    """The photographer with this email, or None."""
    return photographers.get_by_email(conn, normalize_email(email))
