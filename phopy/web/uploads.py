"""Files of a multipart request, read one at a time.

Werkzeug spools each uploaded file to a temporary file past 500 KB, so a
request's files are on disk, not in memory; each is read only when the import
reaches it, and one over ``max_bytes`` is refused from its size alone,
without being read.
"""
import os

from flask import request
from flask_babel import ngettext

from phopy.errors import N_, FileTooLarge, Message
from phopy.web.i18n import translate


def _size(upload):
    stream = upload.stream
    try:
        position = stream.tell()
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(position)
        return size
    except (AttributeError, OSError, ValueError):
        return None


def request_files(field, max_bytes):
    """(filename, fetch) for each chosen file of the form ``field``."""
    def fetch(upload):
        def read():
            size = _size(upload)
            if size is not None and size > max_bytes:
                raise FileTooLarge(Message(N_("%(name)s is larger than %(mb)d MB."),
                                           name=upload.filename, mb=max_bytes // (1 << 20)),
                                   filename=upload.filename)
            try:
                return upload.read()
            finally:
                upload.close()
        return read
    return [(f.filename, fetch(f)) for f in request.files.getlist(field) if f and f.filename]


def added_message(count):
    """"3 photos added." in the user's language."""
    return ngettext("%(num)d photo added.", "%(num)d photos added.", count)


def upload_json(outcome):
    """An upload's summary as JSON, each refusal in the user's language."""
    summary = outcome.summary
    body = summary.as_dict()
    body["rejected"] = [dict(r, error=translate(r["error"])) for r in summary.rejected]
    return body
