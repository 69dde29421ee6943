"""CSRF protection (Flask-WTF), rate limits (Flask-Limiter), URL numbers, in-memory uploads.

Log-in and sign-up are rate limited per client address, so a password cannot
be guessed by brute force. Selfie searches (the HTML page and the API share one
budget) are limited per device (a random id in the signed session cookie) and,
more generously, per address: a venue's Wi-Fi is one address for hundreds of
attendees, so the address limit only stops floods, and the server is protected
by its bounded search queue (``phopy.web.search_queue``). Event-code look-ups
are limited by how many codes an address gets wrong; full-size photo views,
downloads and ZIPs per address. Limits use a moving
window, so twice the limit can never pass at a window's edge. Behind a reverse
proxy or tunnel set TRUST_PROXY_HEADERS=1 so the client's address
(X-Forwarded-For) and scheme are used, not the proxy's.

Uploads are parsed into memory, never spooled to a temp file, so a selfie is
never written to disk. Request size limits (MAX_CONTENT_LENGTH, raised only by
the photographer's upload endpoint) bound the memory used.

Limits shared through Redis degrade instead of failing: while Redis does not
answer, each process counts in its own memory (Flask-Limiter's in-memory
fallback) and a limiter error never turns a request into a 500.
"""
import io
import logging
import secrets

from flask import Request, current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

log = logging.getLogger(__name__)
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
INT64_MAX = 2 ** 63 - 1


def login_limit():
    """The configured rate limit for log-in and sign-up attempts."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def search_limit():
    """The configured rate limit for selfie searches from one device."""
    return current_app.config["SEARCH_RATE_LIMIT"]


def search_address_limit():
    """The configured rate limit for selfie searches from one address."""
    return current_app.config["SEARCH_ADDRESS_RATE_LIMIT"]


def code_lookup_limit():
    """The configured limit on wrong event codes from one address."""
    return current_app.config["CODE_LOOKUP_RATE_LIMIT"]


def device_key():
    """This browser's random device id (kept in the signed session cookie)."""
    device = session.get("device")
    if not isinstance(device, str):
        device = session["device"] = secrets.token_urlsafe(16)
    return f"device:{device}"


def limit_searches(view):
    """One shared search budget per device and per address (HTML page and API alike)."""
    view = limiter.shared_limit(search_limit, scope="search-device", key_func=device_key,
                                methods=["POST"])(view)
    return limiter.shared_limit(search_address_limit, scope="search-address",
                                methods=["POST"])(view)


def limit_code_guesses(view):
    """Count the wrong event codes an address tries (right codes cost nothing)."""
    return limiter.shared_limit(code_lookup_limit, scope="event-code", methods=["GET"],
                                deduct_when=lambda response: response.status_code == 404)(view)


def download_limit():
    """The configured limit on photo views and downloads from one address."""
    return current_app.config["DOWNLOAD_RATE_LIMIT"]


def zip_limit():
    """The configured limit on ZIP downloads from one address."""
    return current_app.config["ZIP_RATE_LIMIT"]


def limit_downloads(view):
    """Full-size views and downloads per address (thumbnails are not counted)."""
    return limiter.shared_limit(download_limit, scope="download", methods=["GET"],
                                exempt_when=lambda: (request.view_args or {}).get("kind")
                                == "thumb")(view)


def limit_zips(view):
    """ZIP downloads per address."""
    return limiter.shared_limit(zip_limit, scope="zip", methods=["GET"])(view)


class Int64Converter(IntegerConverter):
    """``<int:…>`` that only matches numbers a database id can hold (else 404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(url_map, *args, **kwargs)


# Endpoints that take more than MAX_CONTENT_LENGTH: the photographer's photo uploads
# (dashboard and REST API). Their files are spooled to disk as they arrive.
LARGE_UPLOAD_ENDPOINTS = {"dashboard.upload", "api_v1.upload_photos"}


class InMemoryRequest(Request):
    """A request whose uploaded files stay in memory (selfies never touch the disk),
    except on the photo upload routes: those are up to MAX_UPLOAD_REQUEST_BYTES, so
    their files go to temporary files as they arrive (issue 19 #7: held in memory, a
    290 MB upload grew the worker by ~600 MB)."""

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        if self.endpoint in LARGE_UPLOAD_ENDPOINTS:
            return super()._get_file_stream(total_content_length, content_type, filename,
                                            content_length)
        return io.BytesIO()


def raise_upload_limit():
    """Give the upload endpoints their larger request limit before anything reads the
    body (the CSRF check reads the form first)."""
    if request.endpoint in LARGE_UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["MAX_UPLOAD_REQUEST_BYTES"]


def warn_about_per_process_limits(config):
    """Say so at start when limits are kept per process where several likely run."""
    if config.get("RATELIMIT_ENABLED") and \
            config.get("RATELIMIT_STORAGE_URI", "").startswith("memory") and \
            str(config.get("DATABASE_URL", "")).startswith("postgres"):
        log.warning("Rate limits are counted in each process's memory (no REDIS_URL or "
                    "RATELIMIT_STORAGE_URI) while the database is PostgreSQL: with several "
                    "web processes or machines each one allows the full limit. Set REDIS_URL "
                    "to share them.")
        return True
    return False


def init_app(app):
    """Install CSRF protection, rate limits, the URL number converter and request class."""
    app.request_class = InMemoryRequest
    app.url_map.converters["int"] = Int64Converter
    app.before_request(raise_upload_limit)  # before CSRFProtect's hook, which parses the form
    csrf.init_app(app)
    limiter.init_app(app)
    # init_app gives the one Limiter a new storage but keeps its "storage is dead, use
    # the in-memory fallback" flag from the app before: a second app in one process
    # (tests, CLI) would count in memory until Flask-Limiter's back-off re-checks.
    limiter._storage_dead = False
    warn_about_per_process_limits(app.config)
    if app.config.get("TRUST_PROXY_HEADERS"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
