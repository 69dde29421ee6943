"""Signed, expiring links to photos, handed to attendees with their matches.

Photo ids are never exposed bare: only someone who ran a search (or was given
its links) can fetch the photos it found.
"""
from zipfile import ZIP_STORED

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from zipstream import ZipStream

from phopy.errors import N_, NotFound


def link_signer(secret_key):
    """The signer of every link handed to attendees (photos, sets, face crops)."""
    return URLSafeTimedSerializer(secret_key, salt="phopy-photo")


def sign_photo(signer, event_id, photo_id):
    """A token for one photo of an event."""
    return signer.dumps({"e": event_id, "p": int(photo_id)})


def sign_face(signer, event_id, face_id):
    """A token for one face's crop."""
    return signer.dumps({"e": event_id, "f": int(face_id)})


def sign_photo_set(signer, event_id, photo_ids):
    """A token for a set of photos (the ZIP of all matches)."""
    return signer.dumps({"e": event_id, "ps": [int(p) for p in photo_ids]})


def read_token(signer, token, max_age):
    """The token's payload, or NotFound when forged or expired."""
    try:
        return signer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise NotFound(N_("This link has expired. Search again with your selfie."))
    except BadSignature:
        raise NotFound(N_("This link is not valid."))


def unique_names(names):
    """The names with ``-2``, ``-3``… added where one repeats (case-insensitively)."""
    seen = set()
    for name in names:
        stem, dot, ext = name.rpartition(".")
        n = 1
        while name.lower() in seen:
            n += 1
            name = f"{stem or ext}-{n}{dot}{ext if stem else ''}"
        seen.add(name.lower())
        yield name


def zip_stream(entries, sized):
    """A ZIP (zipstream-ng, stored) of ``(name, chunks)`` or ``(name, chunks, size)``
    entries, made as it is sent.

    ``chunks`` is an iterable of bytes (a stored object's ``storage.chunks``, a
    render), read when its turn comes: nothing is written to disk and no entry
    is held whole in memory. ``sized`` (every entry with its size) gives
    ``len()`` for a Content-Length.
    """
    entries = list(entries)
    archive = ZipStream(compress_type=ZIP_STORED, sized=sized)
    for name, entry in zip(unique_names(e[0] for e in entries), entries):
        archive.add(entry[1], name, size=entry[2] if len(entry) > 2 else None)
    return archive
