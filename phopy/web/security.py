"""CSRF protection (Flask-WTF), rate limits (Flask-Limiter) and in-memory uploads.

Log-in, sign-up and selfie searches are rate limited per client address, so a
password cannot be guessed by brute force and one client cannot hog the face
engine. Behind a reverse proxy or tunnel set TRUST_PROXY_HEADERS=1 so the
client's address (X-Forwarded-For) is used, not the proxy's.

Uploads are parsed into memory, never spooled to a temp file, so a selfie is
never written to disk. Request size limits (MAX_CONTENT_LENGTH, raised only by
the photographer's upload endpoint) bound the memory used.
"""
import io

from flask import Request, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


def login_limit():
    """The configured rate limit for log-in and sign-up attempts."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def search_limit():
    """The configured rate limit for selfie searches."""
    return current_app.config["SEARCH_RATE_LIMIT"]


class InMemoryRequest(Request):
    """A request whose uploaded files stay in memory."""

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        return io.BytesIO()


def init_app(app):
    """Install CSRF protection, rate limits and the in-memory request class."""
    app.request_class = InMemoryRequest
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config.get("TRUST_PROXY_HEADERS"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
