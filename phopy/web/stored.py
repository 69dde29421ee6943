"""Stored objects as responses: photos, thumbnails, QR codes and banners.

A view names a storage key, never a path. When the storage hands out URLs (S3
with ``S3_PRESIGN_SECONDS`` > 0) the browser is redirected to a presigned one
and fetches the bytes from the bucket; otherwise the app streams them, a chunk
at a time, from whichever backend holds them.
"""
import io

from flask import redirect, send_file

from phopy.storage.base import guess_type
from phopy.web.headers import private


def send_stored(storage, key, *, max_age, mimetype=None, download_name=None,
                as_attachment=False):
    """A private response with the stored bytes of ``key`` (404 when not stored)."""
    mimetype = mimetype or guess_type(key)
    url = storage.url(key, filename=download_name if as_attachment else None,
                      mimetype=mimetype)
    if url:  # the redirect is not kept: the URL it names expires
        return private(redirect(url, 302), 0)
    fh, size = storage.open_sized(key)
    response = send_file(fh, mimetype=mimetype, download_name=download_name,
                         as_attachment=as_attachment, max_age=max_age, etag=False)
    response.content_length = size
    return private(response, max_age)


def send_download(storage, got, *, as_attachment, max_age=None):
    """A :class:`phopy.services.downloads.Download`: its stored key sent as above, or
    its bytes (a Drive original not kept). ``max_age`` overrides the download's own."""
    max_age = got.max_age if max_age is None else max_age
    if got.key is not None:
        return send_stored(storage, got.key, mimetype=got.mimetype, download_name=got.name,
                           as_attachment=as_attachment, max_age=max_age)
    return private(send_file(io.BytesIO(got.data), mimetype=got.mimetype,
                             download_name=got.name, as_attachment=as_attachment), max_age)
