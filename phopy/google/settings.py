"""Google settings: is Google on, the client id and secret, the scopes.

Every endpoint comes from the config (``GOOGLE_*`` settings), so tests point
them at a fake server. Nothing here imports Flask.
"""
import json
import logging

log = logging.getLogger(__name__)

SIGN_IN_SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.email",
                  "https://www.googleapis.com/auth/userinfo.profile"]
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"


def client_credentials(config):
    """(client_id, client_secret) from the settings or the client_secrets.json; or None."""
    cid, secret = config.get("GOOGLE_CLIENT_ID"), config.get("GOOGLE_CLIENT_SECRET")
    path = config.get("GOOGLE_CLIENT_SECRETS_FILE")
    if not (cid and secret) and path:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            entry = data.get("web") or data.get("installed") or {}
            cid, secret = entry.get("client_id"), entry.get("client_secret")
        except (OSError, ValueError) as exc:
            log.error("cannot read GOOGLE_CLIENT_SECRETS_FILE %s: %s", path, exc)
            return None
    return (cid, secret) if cid and secret else None


def is_configured(config):
    """True when Google sign-in (and Drive through an account) can be offered."""
    return client_credentials(config) is not None


def drive_enabled(config):
    """True when Drive folders can be imported: through an account, or public
    links with ``GOOGLE_API_KEY``. Drive syncs cost nothing otherwise."""
    return is_configured(config) or bool(config.get("GOOGLE_API_KEY"))


def client_config(config, redirect_uri):
    """The ``{"web": {...}}`` mapping google-auth-oauthlib's Flow expects."""
    cid, secret = client_credentials(config)
    return {"web": {"client_id": cid, "client_secret": secret,
                    "auth_uri": config["GOOGLE_AUTH_URI"],
                    "token_uri": config["GOOGLE_TOKEN_URI"],
                    "redirect_uris": [redirect_uri]}}
