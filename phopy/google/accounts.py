"""Google sign-in and the photographer's Drive grant (plain functions)."""
import logging

from phopy.data import google as google_db
from phopy.data import photographers
from phopy.errors import N_, ValidationError
from phopy.google import tokens
from phopy.google.drive import DriveAccessError, DriveClient
from phopy.services.accounts import normalize_email

log = logging.getLogger(__name__)


def sign_in_with_google(conn, info):
    """The photographer for a verified Google identity: by Google id, then by email, else new."""
    if not info.get("sub") or not info.get("email") or not info.get("email_verified"):
        raise ValidationError(N_("Google did not confirm this email address."))
    email = normalize_email(info["email"])
    user = google_db.get_by_sub(conn, info["sub"])
    if user:
        return user
    with conn.transaction():
        user = photographers.get_by_email(conn, email)
        if user:
            google_db.set_sub(conn, user["id"], info["sub"])
            return photographers.get(conn, user["id"])
        new_id = google_db.insert_google_photographer(
            conn, email, (info.get("name") or "").strip()[:100] or None, info["sub"])
    log.info("new photographer %s from Google sign-in", new_id)
    return photographers.get(conn, new_id)


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
