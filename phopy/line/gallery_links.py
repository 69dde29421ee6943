"""Signed, expiring gallery links for a LINE participant's photos of one event."""
from itsdangerous import URLSafeTimedSerializer

from phopy.services.links import read_token

SALT = "phopy-line-gallery"


def _signer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def sign_gallery_token(secret_key, event_id, user_id):
    """A token naming the event and the participant."""
    return _signer(secret_key).dumps({"e": event_id, "u": user_id})


def read_gallery_token(secret_key, token, max_age):
    """The token's (event_id, user_id); NotFound when forged or expired."""
    payload = read_token(_signer(secret_key), token, max_age)
    return payload["e"], payload["u"]


def gallery_url(config, event_id, user_id):
    """Where the 'see all photos' button goes: through LIFF when LIFF_ID is set."""
    token = sign_gallery_token(config["SECRET_KEY"], event_id, user_id)
    path = f"line/gallery/{token}"
    if config.get("LIFF_ID"):
        return f"https://liff.line.me/{config['LIFF_ID']}/{path}"
    return f"{config['PUBLIC_BASE_URL'].rstrip('/')}/{path}"
