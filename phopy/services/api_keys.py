"""API keys: create (shown once), check, list and revoke.

A key is ``phopy_`` + 40 random URL-safe characters. Only its SHA-256 is
stored: the key is long and random, so a fast hash is enough (no password
stretching needed) and lets a request find its key with one indexed lookup.
"""
import hashlib
import re
import secrets

from phopy.data import api_keys as keys_db
from phopy.errors import N_, NotFound, ValidationError

PREFIX = "phopy_"
KEY_RE = re.compile(r"^phopy_[A-Za-z0-9_-]{40}$")
NAME_MAX = 80


def hash_key(key):
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn, photographer_id, name):
    """Make a named key; return (row, the key itself — shown once, never stored)."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= NAME_MAX:
        raise ValidationError(N_("Give the key a name of 1 to 80 characters."), field="name")
    key = PREFIX + secrets.token_urlsafe(30)[:40]
    key_id = keys_db.insert(conn, photographer_id, name, key[:len(PREFIX) + 6], hash_key(key))
    return keys_db.get(conn, key_id), key


def is_well_formed(key):
    """Whether a string has the shape of a Phopy API key."""
    return bool(KEY_RE.match(key or ""))


def find_key(conn, key):
    """The active key row for this key (and mark it used), or None."""
    if not is_well_formed(key):
        return None
    row = keys_db.find_active_by_hash(conn, hash_key(key))
    if row:
        keys_db.touch(conn, row["id"])
    return row


def list_keys(conn, photographer_id):
    """The photographer's keys (name, prefix, dates), newest first."""
    return keys_db.list_for_owner(conn, photographer_id)


def revoke_key(conn, photographer_id, key_id):
    """Revoke one of the photographer's keys; NotFound if it is not theirs or already gone."""
    if not keys_db.revoke(conn, key_id, photographer_id):
        raise NotFound(N_("This API key does not exist."))
