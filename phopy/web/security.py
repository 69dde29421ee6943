"""CSRF protection (Flask-WTF) and in-memory uploads.

Uploads are parsed into memory, never spooled to a temp file, so a selfie is
never written to disk. Request size limits (MAX_CONTENT_LENGTH, raised only by
the photographer's upload endpoint) bound the memory used.
"""
import io

from flask import Request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


class InMemoryRequest(Request):
    """A request whose uploaded files stay in memory."""

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        return io.BytesIO()


def init_app(app):
    """Install CSRF protection and the in-memory request class."""
    app.request_class = InMemoryRequest
    csrf.init_app(app)
