"""The photographer's account page: what Phopy keeps about them, and deleting it all."""
from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.data import events as events_db
from phopy.errors import PhopyError
from phopy.extensions import get_storage
from phopy.services import accounts
from phopy.web.auth import login_required
from phopy.web.i18n import translate

bp = Blueprint("account", __name__, url_prefix="/dashboard/account")


def _page(error=None, status=200):
    events = events_db.list_for_owner(get_db(), g.photographer["id"])
    page = render_template("dashboard/account.html", events=len(events), error=error,
                           needs_password=bool(g.photographer["password_hash"]))
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/")
@login_required
def index():
    """The account: its e-mail, and the form that deletes it."""
    return _page()


@bp.route("/delete", methods=("POST",))
@login_required
def delete():
    """Delete the account with all its events, once the owner confirmed."""
    try:
        accounts.delete_account(get_db(), get_storage(), g.photographer,
                                password=request.form.get("password"),
                                email=request.form.get("email"))
    except PhopyError as exc:
        return _page(translate(exc.message), exc.status_code)
    session.clear()
    flash(_("Your account and all its events are deleted."), "success")
    return redirect(url_for("public.landing"), 303)
