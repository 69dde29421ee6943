"""Security headers on every response, private caching of photos, Secure cookies.

Flask-Talisman sends the Content-Security-Policy (no inline script or style:
everything the pages run lives in ``static/``), ``X-Frame-Options`` with
``frame-ancestors``, ``Referrer-Policy`` and ``X-Content-Type-Options: nosniff``
on every response, errors included. The session cookie gets ``Secure``
whenever the request came over https (directly, or through a proxy trusted
with TRUST_PROXY_HEADERS), so the same install works on http://127.0.0.1 and
behind a tunnel.
"""
from flask import request
from flask.sessions import SecureCookieSessionInterface
from flask_talisman import Talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:", "blob:"],
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
talisman = Talisman()


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is ``Secure`` on https requests."""

    def get_cookie_secure(self, app):
        return bool(app.config.get("SESSION_COOKIE_SECURE") or request.is_secure)


def private(response, max_age):
    """Mark a response cacheable by the browser only (never by a shared proxy)."""
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = max_age
    return response


def init_app(app):
    """Install the headers and the https-aware session cookie."""
    talisman.init_app(
        app, force_https=False, session_cookie_secure=False,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        content_security_policy=CSP, frame_options="DENY",
        referrer_policy="same-origin", strict_transport_security=True,
        x_content_type_options=True)
    app.session_interface = HttpsAwareSessionInterface()
