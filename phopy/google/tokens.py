"""Refresh tokens at rest: encrypted with Fernet (cryptography).

The key is ``GOOGLE_TOKEN_KEY`` from ``.env`` (``Fernet.generate_key()``), or,
when unset, one derived from ``SECRET_KEY`` (so rotating SECRET_KEY means
reconnecting Google Drive).
"""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def _fernet(config):
    key = config.get("GOOGLE_TOKEN_KEY")
    if not key:
        digest = hashlib.sha256(("phopy-google-token:" + config["SECRET_KEY"]).encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    return Fernet(key)


def encrypt(config, token):
    """The token encrypted (text)."""
    return _fernet(config).encrypt(token.encode()).decode()


def decrypt(config, blob):
    """The token, or None when it cannot be decrypted (the key changed)."""
    try:
        return _fernet(config).decrypt(blob.encode()).decode()
    except (InvalidToken, ValueError):
        return None
