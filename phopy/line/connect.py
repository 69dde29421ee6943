"""The dashboard's "Connect LINE" page: a one-time code that links a LINE user to
the photographer's account, and the list of the LINE operators linked to it, each
of which the account's owner can unlink."""
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, \
    url_for
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.line import operators
from phopy.line.settings import is_enabled
from phopy.web.auth import login_required

bp = Blueprint("line_connect", __name__, url_prefix="/dashboard",
               template_folder="templates")


@bp.route("/line", methods=("GET", "POST"))
@login_required
def connect_line():
    """Show a one-time code to type to the bot: 'ลงทะเบียน CODE'."""
    conn = get_db()
    code = None
    if request.method == "POST" and is_enabled(current_app.config):
        code = operators.new_register_code(conn, g.photographer["id"])
    return render_template("line/connect.html", code=code,
                           enabled=is_enabled(current_app.config),
                           bot_id=current_app.config["LINE_BOT_BASIC_ID"],
                           linked=operators.linked_line_users(conn, g.photographer["id"]))


@bp.route("/line/operators/<user_id>/unlink", methods=("POST",))
@login_required
def unlink_operator(user_id):
    """Unlink one LINE operator from the signed-in account (404 when not one of its own)."""
    user = operators.unlink_operator(get_db(), g.photographer["id"], user_id)
    if user is None:
        abort(404)
    flash(_("%(name)s no longer runs events of this account from LINE.",
            name=user["display_name"] or user["user_id"]), "success")
    return redirect(url_for("line_connect.connect_line"))
