"""Sign in with Google, connect Google Drive, pick a folder, sync it.

Views validate input, call ``phopy.google.oauth`` / ``phopy.google.sync``
and render. The OAuth ``state`` and PKCE ``code_verifier`` live in the session
between the redirect and the callback. Without Google credentials in the
settings every route here answers 404 and the buttons are hidden.
"""
import logging
import time

from flask import (Blueprint, abort, current_app, flash, g, jsonify, redirect,
                   render_template, request, session, url_for)
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.errors import PhopyError
from phopy.google import accounts, oauth, sync
from phopy.google.drive import DriveAccessError
from phopy.google.settings import DRIVE_SCOPE, SIGN_IN_SCOPES, is_configured
from phopy.jobs import tasks
from phopy.services import indexing
from phopy.web.auth import login_required, start_session
from phopy.web.i18n import translate
from phopy.web.owner import owned_event, task_started
from phopy.web.redirects import safe_redirect
from phopy.web.security import limiter, login_limit

log = logging.getLogger(__name__)
LINK_SECONDS = 600  # how long a pending "link your Google account" page stays open
bp = Blueprint("google", __name__, template_folder="templates")


@bp.app_context_processor
def google_globals():
    """``google_enabled`` and ``drive_status(event_id)`` for templates."""
    def drive_status(event_id):
        return sync.link_status(get_db(), event_id) if google_enabled else None
    google_enabled = is_configured(current_app.config)
    return {"google_enabled": google_enabled, "drive_status": drive_status,
            "drive_message": lambda status: translate(status["message"]) if status and
            status.get("message") else None}


@bp.before_request
def require_google():
    if not is_configured(current_app.config):
        abort(404)


def _redirect_uri():
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("google.callback")


def _begin(purpose, scopes, offline=False, **extra):
    url, state, verifier = oauth.start(current_app.config, scopes, _redirect_uri(),
                                       offline=offline,
                                       login_hint=g.photographer["email"] if g.photographer
                                       else None)
    session["google_oauth"] = dict(extra, state=state, verifier=verifier, purpose=purpose,
                                   scopes=scopes)
    return redirect(url)


@bp.route("/auth/google/login")
def login():
    """Send the browser to Google's consent page (openid email profile)."""
    return _begin("login", SIGN_IN_SCOPES, next=request.args.get("next"))


@bp.route("/dashboard/events/<event_id>/drive/connect")
@login_required
def connect(event_id):
    """Incremental authorization: ask for Drive (read-only, offline) only now."""
    owned_event(event_id)
    return _begin("drive", SIGN_IN_SCOPES + [DRIVE_SCOPE], offline=True, event_id=event_id)


@bp.route("/auth/google/callback")
def callback():
    """Google's redirect back: check state, exchange the code with the PKCE verifier."""
    pending = session.pop("google_oauth", None)
    if request.args.get("error") or not pending or \
            request.args.get("state") != pending.get("state"):
        flash(_("Google sign-in was cancelled or has expired. Please try again."), "error")
        return redirect(url_for("auth.login"))
    config, conn = current_app.config, get_db()
    try:
        token = oauth.finish(config, pending["scopes"], _redirect_uri(), pending["state"],
                             pending["verifier"],
                             _redirect_uri() + "?" + request.query_string.decode())
        info = oauth.userinfo(config, token["access_token"])
        if pending["purpose"] == "drive" and g.photographer:
            accounts.save_drive_grant(conn, config, g.photographer["id"], token, info)
            flash(_("Google Drive is connected."), "success")
            return redirect(url_for("google.picker", event_id=pending["event_id"]))
        user = accounts.sign_in_with_google(conn, info)
    except accounts.LinkNeedsPassword:
        session["google_link"] = {"sub": info["sub"], "email": info["email"],
                                  "email_verified": True, "next": pending.get("next"),
                                  "until": time.time() + LINK_SECONDS}
        return redirect(url_for("google.link_account"))
    except oauth.OAuthError:
        flash(_("Google sign-in failed. Please try again."), "error")
        return redirect(url_for("auth.login"))
    except PhopyError as exc:
        flash(translate(exc.message), "error")
        return redirect(url_for("auth.login"))
    start_session(user)
    return safe_redirect(pending.get("next"), url_for("dashboard.index"))


def _pending_link():
    pending = session.get("google_link")
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        session.pop("google_link", None)
        return None
    return pending


@bp.route("/auth/google/link", methods=("GET", "POST"))
@limiter.limit(login_limit, methods=["POST"])
def link_account():
    """Google's email matches an account not bound to Google yet: only its password
    lets this Google account in (and binds it for next time)."""
    pending = _pending_link()
    if pending is None:
        flash(_("Google sign-in was cancelled or has expired. Please try again."), "error")
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        try:
            user = accounts.link_google_with_password(get_db(), pending,
                                                      request.form.get("password"))
        except PhopyError as exc:
            error = translate(exc.message)
        else:
            start_session(user)
            flash(_("Your Google account is linked. Next time Sign in with Google is "
                    "enough."), "success")
            return safe_redirect(pending.get("next"), url_for("dashboard.index"))
    return render_template("google/link.html", email=pending["email"], error=error), \
        (401 if error else 200)


@bp.route("/auth/google/disconnect", methods=("POST",))
@login_required
def disconnect():
    """Revoke and delete the Drive grant; linked events pause."""
    accounts.disconnect_drive(get_db(), current_app.config, g.photographer["id"])
    flash(_("Google Drive is disconnected."), "success")
    return safe_redirect(request.form.get("next"), url_for("dashboard.index"))


def _client(public=False):
    conn, config = get_db(), current_app.config
    if public:
        return accounts.public_client(config)
    try:
        return accounts.drive_client(conn, config, g.photographer["id"])
    except DriveAccessError as exc:
        raise sync.DriveLinkError(sync.access_message(exc.reason), reason=exc.reason) from exc


@bp.route("/dashboard/events/<event_id>/drive")
@login_required
def picker(event_id):
    """Browse My Drive and shared drives (folders only, paged), or paste a link."""
    ev = owned_event(event_id)
    connected = accounts.has_drive(get_db(), g.photographer["id"])
    listing, error = None, None
    if connected:
        try:
            listing = sync.browse(_client(), request.args.get("parent") or "root",
                                   request.args.get("page") or None)
        except PhopyError as exc:
            error = translate(exc.message)
    return render_template("google/picker.html", event=ev, connected=connected,
                           listing=listing, error=error,
                           public_enabled=bool(current_app.config.get("GOOGLE_API_KEY")))


def _folder_args(source):
    public = source.get("public") == "1"
    folder_id = sync.folder_id_from(source.get("folder"))
    return folder_id, source.get("subfolders", "1") == "1", public


@bp.route("/dashboard/events/<event_id>/drive/check")
@login_required
def check(event_id):
    """Before linking: is it a folder we may read, and what is in it?"""
    ev = owned_event(event_id)
    summary, error = None, None
    try:
        folder_id, subfolders, public = _folder_args(request.args)
        summary = sync.check_folder(_client(public), folder_id, subfolders)
    except PhopyError as exc:
        error, public = translate(exc.message), request.args.get("public") == "1"
    return render_template("google/check.html", event=ev, summary=summary, error=error,
                           public=public), (200 if summary else 400)


@bp.route("/dashboard/events/<event_id>/drive/link", methods=("POST",))
@login_required
def link(event_id):
    """Link the folder and start importing."""
    owned_event(event_id)
    conn, config = get_db(), current_app.config
    try:
        folder_id, subfolders, public = _folder_args(request.form)
        sync.link_folder(conn, config, _client(public), event_id, g.photographer["id"],
                          folder_id, subfolders, "public" if public else "oauth")
    except PhopyError as exc:
        flash(translate(exc.message), "error")
        return redirect(url_for("google.picker", event_id=event_id))
    flash(_("Folder linked. Importing its photos now."), "success")
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.route("/dashboard/events/<event_id>/drive/sync", methods=("POST",))
@login_required
def sync_now(event_id):
    """Sync now (also after a reconnect)."""
    owned_event(event_id)
    return task_started(sync.enqueue_sync(get_db(), event_id, manual=True),
                        _("Syncing with Google Drive."), event_id)


@bp.route("/dashboard/events/<event_id>/drive/unlink", methods=("POST",))
@login_required
def unlink(event_id):
    """Stop feeding the event from Drive; its photos stay."""
    owned_event(event_id)
    sync.unlink_folder(get_db(), event_id)
    flash(_("The Drive folder is no longer linked. Its photos stay in the event."), "success")
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.route("/dashboard/events/<event_id>/drive/status")
@login_required
def status(event_id):
    """JSON: the link, the latest sync task and the latest indexing task."""
    owned_event(event_id)
    conn, stale = get_db(), current_app.config["TASK_STALE_SECONDS"]
    link_ = sync.link_status(conn, event_id)
    sync_task, index_task = sync.latest_sync(conn, event_id), tasks.latest_task(conn, event_id)
    if link_ and link_.get("message"):
        link_["message"] = translate(link_["message"])
    return jsonify({
        "link": link_,
        "sync": tasks.task_json(sync_task, stale) if sync_task else None,
        "index": tasks.task_json(index_task, stale) if index_task else None,
        "checkpoint": indexing.checkpoint_status(conn, event_id)})
