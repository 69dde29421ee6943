"""Signed, expiring links to photos, handed to attendees with their matches.

Photo ids are never exposed bare: only someone who ran a search (or was given
its links) can fetch the photos it found.
"""
import zipfile

from itsdangerous import BadSignature, SignatureExpired

from phopy.errors import N_, NotFound
from phopy.services.photos import stored_media


def sign_photo(signer, event_id, photo_id):
    """A token for one photo of an event."""
    return signer.dumps({"e": event_id, "p": int(photo_id)})


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


def write_zip(storage, photos, fileobj, fetch=None, render=None):
    """Write a ZIP of the photos, with unique file names, to ``fileobj``.

    ``render(photo)`` gives (bytes, mimetype, name) to store instead of the
    original (the event banner composited); ``fetch(photo)`` may give a photo's
    original bytes from elsewhere (a Drive original), or None. Names carry the
    real format's extension, never the uploaded one.
    """
    seen = set()
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as archive:
        for photo in photos:
            data, name = None, stored_media(storage, photo)[1]
            if render is not None:
                data, _mimetype, name = render(photo)
            elif fetch is not None:
                data = fetch(photo)
            stem, dot, ext = name.rpartition(".")
            n = 1
            while name.lower() in seen:
                n += 1
                name = f"{stem or ext}-{n}{dot}{ext if stem else ''}"
            seen.add(name.lower())
            if data is None:
                archive.write(storage.path(photo["storage_key"]), arcname=name)
            else:
                archive.writestr(name, data)
    fileobj.seek(0)
    return fileobj
