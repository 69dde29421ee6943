"""Who is calling the REST API: an API key (``Authorization: Bearer``) or the session.

API-key calls carry no cookie, so they need no CSRF token; state-changing
calls made with the photographer's session must still send one (the
``X-CSRFToken`` header, as the dashboard's scripts do). Keyed calls share one
rate limit per key (API_KEY_RATE_LIMIT), apart from the per-address limits.
"""
import functools
import hashlib

from flask import current_app, g, request

from phopy.data import get_db
from phopy.errors import N_, PhopyError, ValidationError
from phopy.services import accounts, api_keys
from phopy.web.security import csrf, limiter

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
MAX_PER_PAGE = 100


class Unauthorized(PhopyError):
    """Please log in or send a valid API key."""

    status_code = 401
    code = "unauthorized"


def bearer_token():
    """The token of an ``Authorization: Bearer`` header, '' when malformed, None when absent."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and " " not in token else ""


def api_key_limit():
    """The configured rate limit for calls made with an API key."""
    return current_app.config["API_KEY_RATE_LIMIT"]


def _key_bucket():
    return "apikey:" + hashlib.sha256((bearer_token() or "").encode()).hexdigest()[:24]


keyed_limit = limiter.shared_limit(api_key_limit, scope="api_key", key_func=_key_bucket,
                                   exempt_when=lambda: request.headers.get("Authorization")
                                   is None)


def authenticate():
    """Set ``g.photographer`` and ``g.api_key`` from a bearer key (before each API call)."""
    g.api_key = None
    token = bearer_token()
    if token is None:
        return
    if not token:
        raise Unauthorized(N_("Send the key as: Authorization: Bearer <key>."),
                           error="invalid_authorization")
    row = api_keys.find_key(get_db(), token)
    if row is None:
        raise Unauthorized(N_("This API key is not valid or was revoked."))
    g.api_key = row
    g.photographer = accounts.get_photographer(get_db(), row["photographer_id"])


def auth_required(view):
    """The caller must be a photographer (key or session); session writes need CSRF."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("photographer") is None:
            raise Unauthorized(N_("Please log in or send a valid API key."))
        if (g.api_key is None and request.method in STATE_CHANGING
                and current_app.config.get("WTF_CSRF_ENABLED", True)):
            csrf.protect()
        return view(**kwargs)
    return wrapped


def int_arg(name, default, low, high):
    """A whole-number query argument within [low, high], or ValidationError."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(N_("Query arguments page and per_page must be whole numbers."),
                              field=name)
    if not low <= value <= high:
        raise ValidationError(N_("page must be 1 or more and per_page 1 to 100."), field=name)
    return value


def page_args(default_per_page=20):
    """(page, per_page, offset) from ``?page=&per_page=``."""
    page = int_arg("page", 1, 1, 10 ** 9)
    per_page = int_arg("per_page", default_per_page, 1, MAX_PER_PAGE)
    return page, per_page, (page - 1) * per_page


def paged(items, page, per_page, total):
    """The JSON shape of every paged list."""
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": max(1, -(-total // per_page))}


def json_object():
    """The request's JSON body as a dict, or ValidationError."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(N_("Send a JSON object in the request body "
                                 "(Content-Type: application/json)."))
    return data
