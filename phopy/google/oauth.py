"""The OAuth 2.0 / OpenID Connect web flow with google-auth-oauthlib.

``start`` gives the URL to send the browser to plus the ``state`` and PKCE
``code_verifier`` to keep in the session; ``finish`` exchanges the code (with
that verifier) for tokens; ``userinfo`` says who signed in; ``revoke`` ends a
refresh token.
"""
import logging
import os

import requests
from google_auth_oauthlib.flow import Flow

from phopy.google.settings import client_config

log = logging.getLogger(__name__)


class OAuthError(Exception):
    """The provider refused (the user cancelled, a bad code, a network error)."""


def _prepare(config):
    # Plain http only for a local fake or a TLS-terminating proxy; Google is https.
    if config["GOOGLE_TOKEN_URI"].startswith("http://"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    # Google widens "email" and keeps earlier grants (incremental authorization).
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"


def _flow(config, scopes, redirect_uri, state=None, code_verifier=None):
    _prepare(config)
    flow = Flow.from_client_config(client_config(config, redirect_uri), scopes=scopes,
                                   redirect_uri=redirect_uri, state=state,
                                   code_verifier=code_verifier, autogenerate_code_verifier=True)
    return flow


def start(config, scopes, redirect_uri, offline=False, login_hint=None):
    """(authorization URL, state, code_verifier) for a new sign-in."""
    flow = _flow(config, scopes, redirect_uri)
    extra = {"include_granted_scopes": "true"}
    if offline:
        extra.update(access_type="offline", prompt="consent")
    if login_hint:
        extra["login_hint"] = login_hint
    url, state = flow.authorization_url(**extra)
    return url, state, flow.code_verifier


def finish(config, scopes, redirect_uri, state, code_verifier, authorization_response):
    """Exchange the callback URL's code for tokens; return the token dict."""
    flow = _flow(config, scopes, redirect_uri, state=state, code_verifier=code_verifier)
    try:
        return dict(flow.fetch_token(authorization_response=authorization_response,
                                     timeout=config.get("GOOGLE_HTTP_TIMEOUT", 60)))
    except Exception as exc:  # oauthlib and requests raise many kinds
        log.warning("Google token exchange failed: %s", exc)
        raise OAuthError(str(exc)) from exc


def userinfo(config, access_token):
    """The OpenID userinfo (``sub``, ``email``, ``email_verified``, ``name``)."""
    try:
        response = requests.get(config["GOOGLE_USERINFO_URI"],
                                headers={"Authorization": f"Bearer {access_token}"},
                                timeout=config.get("GOOGLE_HTTP_TIMEOUT", 60))
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OAuthError(str(exc)) from exc


def revoke(config, token):
    """Ask Google to revoke a token; True when it did (or it was already gone)."""
    try:
        response = requests.post(config["GOOGLE_REVOKE_URI"], data={"token": token},
                                 timeout=config.get("GOOGLE_HTTP_TIMEOUT", 60))
    except requests.RequestException as exc:
        log.warning("could not revoke a Google token: %s", exc)
        return False
    return response.status_code in (200, 400)
