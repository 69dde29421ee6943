"""Signed, expiring gallery links for a LINE participant's photos of one event.

The link names the event and an opaque key of the participant (an HMAC of the
event and the LINE userId under SECRET_KEY), never the userId itself: the page
finds the participant among those found in the event by that key.
"""
import hashlib
import hmac

from itsdangerous import URLSafeTimedSerializer

from phopy.data import line as line_db
from phopy.errors import N_, NotFound
from phopy.services.links import read_token

SALT = "phopy-line-gallery-2"


def _signer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def participant_key(secret_key, event_id, user_id):
    """The opaque key a link carries for the participant (32 hex characters)."""
    secret = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return hmac.new(secret, f"line-gallery:{event_id}:{user_id}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def sign_gallery_token(secret_key, event_id, user_id):
    """A token naming the event and, opaquely, the participant."""
    return _signer(secret_key).dumps({"e": event_id,
                                      "p": participant_key(secret_key, event_id, user_id)})


def read_gallery_token(conn, secret_key, token, max_age):
    """The token's (event_id, user_id); NotFound when forged, expired or nobody's."""
    payload = read_token(_signer(secret_key), token, max_age)
    event_id, key = payload.get("e"), str(payload.get("p") or "")
    # the event's participants (one who said "Not me" to every photo still opens it)
    # and whoever was found in it (kept for the gallery after its face data is deleted)
    users = {r["user_id"] for r in line_db.participants(conn, event_id)}
    for user_id in sorted(users | set(line_db.matched_user_ids(conn, event_id))):
        if hmac.compare_digest(participant_key(secret_key, event_id, user_id), key):
            return event_id, user_id
    raise NotFound(N_("This link is not valid."))


def gallery_url(config, event_id, user_id):
    """Where the 'see all photos' button goes: through LIFF when LIFF_ID is set."""
    token = sign_gallery_token(config["SECRET_KEY"], event_id, user_id)
    path = f"line/gallery/{token}"
    if config.get("LIFF_ID"):
        return f"https://liff.line.me/{config['LIFF_ID']}/{path}"
    return f"{config['PUBLIC_BASE_URL'].rstrip('/')}/{path}"
