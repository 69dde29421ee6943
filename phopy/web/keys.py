"""The dashboard's API keys page: create (shown once), list, revoke."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.errors import PhopyError
from phopy.services import api_keys
from phopy.web.auth import login_required
from phopy.web.i18n import translate

bp = Blueprint("keys", __name__, url_prefix="/dashboard/api-keys")


@bp.route("/", methods=("GET", "POST"))
@login_required
def index():
    """List the photographer's keys; POST makes a new one and shows it this once."""
    conn, owner = get_db(), g.photographer["id"]
    new_key, error, status = None, None, 200
    if request.method == "POST":
        try:
            row, new_key = api_keys.create_key(conn, owner, request.form.get("name"))
        except PhopyError as exc:
            error, status = translate(exc.message), exc.status_code
        else:
            new_key = {"name": row["name"], "key": new_key}
    response = render_template("dashboard/api_keys.html", keys=api_keys.list_keys(conn, owner),
                               new_key=new_key, error=error)
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/<int:key_id>/revoke", methods=("POST",))
@login_required
def revoke(key_id):
    """Revoke a key: calls made with it fail from now on."""
    api_keys.revoke_key(get_db(), g.photographer["id"], key_id)
    flash(_("The API key was revoked."), "success")
    return redirect(url_for("keys.index"), 303)
