"""Security headers on every response, private caching of photos, Secure cookies.

Flask-Talisman sends the Content-Security-Policy (no inline script or style:
everything the pages run lives in ``static/``), ``X-Frame-Options`` with
``frame-ancestors``, ``Referrer-Policy`` and ``X-Content-Type-Options: nosniff``
on every response, errors included. The session cookie gets ``Secure``
whenever the request came over https (directly, or through a proxy trusted
with TRUST_PROXY_HEADERS), so the same install works on http://127.0.0.1 and
behind a tunnel.
"""
from urllib.parse import urlsplit

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


def presigned_origin(config):
    """The origin browsers fetch presigned photo URLs from (S3 with S3_PRESIGN_SECONDS > 0),
    which the CSP must allow as an image source; None when the app streams photos."""
    if (config.get("STORAGE_BACKEND") or "file").lower() != "s3" or \
            int(config.get("S3_PRESIGN_SECONDS") or 0) <= 0:
        return None
    endpoint = urlsplit(config.get("S3_ENDPOINT_URL") or "")
    if endpoint.scheme and endpoint.netloc:
        return f"{endpoint.scheme}://{endpoint.netloc}"
    return "https://*.amazonaws.com"


def init_app(app):
    """Install the headers and the https-aware session cookie."""
    origin = presigned_origin(app.config)
    if origin:  # registered first, so it runs after Talisman has set the header
        @app.after_request
        def allow_presigned_images(response):
            policy = response.headers.get("Content-Security-Policy")
            if policy:
                response.headers["Content-Security-Policy"] = policy.replace(
                    "img-src 'self'", f"img-src 'self' {origin}", 1)
            return response
    talisman.init_app(
        app, force_https=False, session_cookie_secure=False,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        content_security_policy=CSP, frame_options="DENY",
        referrer_policy="same-origin", strict_transport_security=True,
        x_content_type_options=True)
    app.session_interface = HttpsAwareSessionInterface()
