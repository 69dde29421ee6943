"""The dashboard's "Connect LINE" page: a one-time code that links a LINE user to
the photographer's account."""
from flask import Blueprint, current_app, g, render_template, request

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
                           linked=operators.linked_line_user(conn, g.photographer["id"]))
