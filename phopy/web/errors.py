"""One place that turns errors into JSON (API, webhook) or friendly pages."""
import logging

from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from phopy.errors import N_, Message, PhopyError
from phopy.web.i18n import translate

log = logging.getLogger(__name__)

MESSAGES = {
    400: N_("Something in the request was not right."),
    403: N_("You are not allowed to do that."),
    404: N_("We could not find that page."),
    405: N_("That action is not allowed here."),
    413: N_("The upload is too large."),
    429: N_("Too many requests. Please wait a moment and try again."),
    500: N_("Something went wrong on our side. Please try again."),
}
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "file_too_large", 429: "too_many_requests", 500: "server_error"}


def wants_json():
    """True for the API, the LINE webhook and clients that ask for JSON."""
    if request.path.startswith(("/api/", "/line/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and \
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(status, code, message, **details):
    """The error as JSON ``{error, message}`` or as ``errors/<status>.html``."""
    message = translate(message)
    if wants_json():
        body = {"error": code, "message": message}
        body.update({k: v for k, v in details.items() if k != "message"})
        return jsonify(body), status
    template = f"errors/{status}.html" if status in (404, 413, 500) else "errors/error.html"
    return render_template(template, status=status, message=message), status


def too_large_message():
    """What a too-large request was allowed: its real limit, in MB."""
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    return Message(N_("The upload is too large: at most %(mb)d MB can be sent at once, "
                      "and each photo can be at most %(photo_mb)d MB."),
                   mb=limit // (1024 * 1024),
                   photo_mb=current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024))


def register_error_handlers(app):
    """Install handlers for domain errors, HTTP errors and crashes."""

    @app.errorhandler(PhopyError)
    def handle_domain_error(exc):
        body, status = render_error(exc.status_code, exc.code, exc.message, **exc.details)
        headers = {}
        if status == 503:
            headers["Retry-After"] = str(current_app.config["SEARCH_RETRY_AFTER_SECONDS"])
        return body, status, headers

    @app.errorhandler(CSRFError)
    def handle_csrf(exc):
        return render_error(400, "csrf", N_("Your session expired. Please reload the page "
                                            "and try again."))

    @app.errorhandler(HTTPException)
    def handle_http(exc):
        status = exc.code or 500
        if status == 413:
            return render_error(413, CODES[413], too_large_message())
        if status == 429:
            body, status = render_error(429, CODES[429], MESSAGES[429])
            limit = getattr(exc, "limit", None)
            wait = limit.limit.get_expiry() if limit is not None else 60
            return body, status, {"Retry-After": str(wait)}
        body, status = render_error(status, CODES.get(status, "error"), MESSAGES.get(
            status, MESSAGES[400] if status < 500 else MESSAGES[500]))
        # The exception's own headers (405's Allow, 401's WWW-Authenticate), not its body's type.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(Exception)
    def handle_crash(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "server_error", MESSAGES[500])
