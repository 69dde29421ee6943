"""One helper for every redirect that follows a target the visitor gave (``next``, Referer).

The target is normalised and parsed as a URL; only a path on this site passes.
Control characters (tabs, CR/LF: browsers drop them, so ``/\\t/evil`` becomes
``//evil``), backslashes (read as ``/`` by browsers), other schemes and other
hosts all fall back to a safe page. Absolute URLs are accepted only for this
very host (the Referer header) and reduced to their path.
"""
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from flask import redirect, request


def _has_unsafe_chars(target):
    return "\\" in target or any(
        unicodedata.category(ch)[0] in ("C", "Z") for ch in target)


def safe_target(target, fallback):
    """``target`` reduced to a path on this site, or ``fallback`` when it is not one."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return fallback
    if _has_unsafe_chars(target):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:
        return fallback
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return fallback
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return fallback
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def safe_redirect(target, fallback, code=302):
    """A redirect to ``target`` when it is a path on this site, else to ``fallback``."""
    return redirect(safe_target(target, fallback), code)
