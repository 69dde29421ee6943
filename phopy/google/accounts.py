"""Google sign-in and the photographer's Drive grant (plain functions)."""
import logging

from phopy.data import google as google_db
from phopy.data import photographers
from phopy.errors import N_, Forbidden, PhopyError, ValidationError
from phopy.google import tokens
from phopy.google.drive import DriveAccessError, DriveClient
from phopy.services.accounts import authenticate, normalize_email

log = logging.getLogger(__name__)


class LinkNeedsPassword(PhopyError):
    """An account with this email exists and is not bound to Google yet: its password
    must agree before this Google account may sign in to it."""

    status_code = 409
    code = "google_link_needs_password"


def _identity(info):
    """(sub, email, name) of a Google identity whose email Google has verified."""
    if not info.get("sub") or not info.get("email") or not info.get("email_verified"):
        raise ValidationError(N_("Google did not confirm this email address."))
    return (str(info["sub"]), normalize_email(info["email"]),
            (info.get("name") or "").strip()[:100] or None)


def sign_in_with_google(conn, info):
    """The photographer bound to this Google account (by ``sub``), or a new one.

    An email alone never opens an account: an account with the same email that
    is bound to another Google account refuses (a recycled address is a new
    ``sub``), and one that is not bound yet raises LinkNeedsPassword, since its
    email was never verified and may have been signed up by someone else.
    """
    sub, email, name = _identity(info)
    user = google_db.get_by_sub(conn, sub)
    if user:
        return user
    with conn.transaction():
        existing = photographers.get_by_email(conn, email)
        if existing is None:
            new_id = google_db.insert_google_photographer(conn, email, name, sub)
            log.info("new photographer %s from Google sign-in", new_id)
            return photographers.get(conn, new_id)
    if existing["google_sub"]:
        log.warning("Google sign-in refused: photographer %s is bound to another Google "
                    "account", existing["id"])
        raise Forbidden(_OTHER_GOOGLE)
    if not existing["password_hash"]:
        raise Forbidden(N_("This email's Phopy account cannot be linked to Google."))
    raise LinkNeedsPassword(email=email, sub=sub)


_OTHER_GOOGLE = N_("The Phopy account with this email signs in with a different Google "
                   "account. Use that Google account or your password.")


def link_google_with_password(conn, info, password):
    """Bind a Google identity to the account with its email once that account's
    password is given; return the photographer. Wrong password: ValidationError."""
    sub, email, _ = _identity(info)
    user = authenticate(conn, email, password)
    with conn.transaction():
        if google_db.get_by_sub(conn, sub):
            raise Forbidden(N_("This Google account already signs in to another Phopy "
                               "account."))
        if not google_db.bind_sub(conn, user["id"], sub):
            raise Forbidden(_OTHER_GOOGLE)
    log.info("photographer %s linked a Google account with their password", user["id"])
    return photographers.get(conn, user["id"])


def save_drive_grant(conn, config, photographer_id, token, info):
    """Keep the refresh token (encrypted) and let paused syncs run again."""
    refresh = token.get("refresh_token")
    if not refresh:
        raise ValidationError(N_("Google did not grant offline access to Drive. Please try again."))
    scopes = token.get("scope")
    scopes = " ".join(scopes) if isinstance(scopes, (list, tuple)) else scopes
    with conn.transaction():
        google_db.save_grant(conn, photographer_id, info.get("sub", ""), info.get("email"),
                             tokens.encrypt(config, refresh), scopes)
        google_db.resume_links(conn, photographer_id)


def has_drive(conn, photographer_id):
    """True when the photographer has connected Google Drive."""
    return google_db.get_grant(conn, photographer_id) is not None


def drive_client(conn, config, photographer_id):
    """A DriveClient with the photographer's token; DriveAccessError('revoked') without one."""
    grant = google_db.get_grant(conn, photographer_id)
    refresh = tokens.decrypt(config, grant["refresh_token"]) if grant else None
    if not refresh:
        raise DriveAccessError("revoked", "no Google Drive grant")
    return DriveClient(config, refresh_token=refresh)


def public_client(config):
    """A DriveClient for "anyone with the link" folders (GOOGLE_API_KEY)."""
    if not config.get("GOOGLE_API_KEY"):
        raise ValidationError(N_("Public Drive links need GOOGLE_API_KEY in the settings."))
    return DriveClient(config, api_key=config["GOOGLE_API_KEY"])


def disconnect_drive(conn, config, photographer_id):
    """Revoke the refresh token at Google, delete it, pause the photographer's syncs."""
    from phopy.google import oauth
    grant = google_db.get_grant(conn, photographer_id)
    if grant:
        refresh = tokens.decrypt(config, grant["refresh_token"])
        if refresh:
            oauth.revoke(config, refresh)
    with conn.transaction():
        google_db.delete_grant(conn, photographer_id)
        for link in google_db.links_of(conn, photographer_id):
            if link["mode"] == "oauth":
                google_db.pause_link(conn, link["event_id"], "revoked", "disconnected")
