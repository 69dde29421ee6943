"""Photographer sign-up, log-in and log-out (email + hashed password)."""
import functools

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.errors import PhopyError
from phopy.services import accounts
from phopy.web.i18n import translate
from phopy.web.redirects import safe_redirect
from phopy.web.security import limiter, login_limit

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.before_app_request
def load_photographer():
    """Put the signed-in photographer (or None) on ``g``.

    The cookie must name a login session that still exists: after log-out
    (or with a copy of an old cookie) the visitor is anonymous.
    """
    photographer_id = session.get("photographer_id")
    g.photographer = None
    if photographer_id:
        g.photographer = accounts.session_photographer(get_db(), session.get("login"),
                                                       photographer_id)
        if g.photographer is None:
            session.pop("photographer_id", None)
            session.pop("login", None)


def login_required(view):
    """Send anonymous visitors to the log-in page (JSON 401 for the API)."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.photographer is None:
            from phopy.web.errors import wants_json
            if wants_json():
                from flask import jsonify
                return jsonify({"error": "login_required",
                                "message": _("Please log in first.")}), 401
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)
    return wrapped


def start_session(user):
    """Sign the photographer in (a fresh session, so no fixation)."""
    session.clear()
    session["photographer_id"] = user["id"]
    session["login"] = accounts.start_login_session(get_db(), user["id"])


@bp.route("/signup", methods=("GET", "POST"))
@limiter.limit(login_limit, methods=["POST"])
def signup():
    """Create a photographer account."""
    error = None
    if request.method == "POST":
        try:
            user = accounts.register(get_db(), request.form.get("email"),
                                     request.form.get("password"),
                                     request.form.get("display_name"))
        except PhopyError as exc:
            error = translate(exc.message)
        else:
            start_session(user)
            flash(_("Welcome to Phopy! Create your first event."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/signup.html", error=error), (400 if error else 200)


@bp.route("/login", methods=("GET", "POST"))
@limiter.limit(login_limit, methods=["POST"])
def login():
    """Log in with email and password."""
    error = None
    if request.method == "POST":
        try:
            user = accounts.authenticate(get_db(), request.form.get("email"),
                                         request.form.get("password"))
        except PhopyError as exc:
            error = translate(exc.message)
        else:
            start_session(user)
            return safe_redirect(request.args.get("next"), url_for("dashboard.index"))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=("POST",))
def logout():
    """Log out: this browser's login session ends for good."""
    accounts.end_login_session(get_db(), session.get("login"))
    session.clear()
    flash(_("You are logged out."), "success")
    return redirect(url_for("public.landing"))
