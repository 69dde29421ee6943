"""Dashboard pages for LINE and face data: "Connect LINE", close an event, retention."""
from flask import (Blueprint, current_app, flash, g, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.errors import PhopyError
from phopy.line import is_enabled
from phopy.services import events, line_operators, retention
from phopy.web.auth import login_required
from phopy.web.i18n import translate

bp = Blueprint("line_dashboard", __name__, url_prefix="/dashboard")


@bp.route("/line", methods=("GET", "POST"))
@login_required
def connect_line():
    """Show a one-time code to type to the bot: 'ลงทะเบียน CODE'."""
    conn = get_db()
    code = None
    if request.method == "POST" and is_enabled(current_app.config):
        code = line_operators.new_register_code(conn, g.photographer["id"])
    return render_template("line/connect.html", code=code,
                           enabled=is_enabled(current_app.config),
                           bot_id=current_app.config["LINE_BOT_BASIC_ID"],
                           linked=line_operators.linked_line_user(conn, g.photographer["id"]))


@bp.route("/events/<event_id>/face-data", methods=("POST",))
@login_required
def face_data(event_id):
    """Close or reopen the event, or change how long its face data is kept."""
    conn = get_db()
    event = events.get_owned_event(conn, event_id, g.photographer["id"])
    action = request.form.get("action")
    try:
        if action == "close":
            retention.mark_closed(conn, event["id"])
            flash(_("Event closed: face data will be deleted after the set number of days."),
                  "success")
        elif action == "reopen":
            retention.reopen(conn, event["id"])
            flash(_("Event reopened."), "success")
        else:
            retention.set_retention_days(conn, event["id"],
                                         request.form.get("face_retention_days"))
            flash(_("Saved."), "success")
    except PhopyError as exc:
        flash(translate(exc.message), "error")
    return redirect(url_for("dashboard.event", event_id=event["id"]))
