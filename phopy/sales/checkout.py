"""The buyer's pages: checkout from a search result, the order's secret page (QR to pay,
slip upload, then downloads), one photo or all as a ZIP, and the receipt.

No account: the order's secret link (``/o/<token>``) is the key, on any device.
"""

from flask import (Blueprint, Response, current_app, redirect, render_template, request,
                   url_for)

from phopy.data import get_database, get_db
from phopy.errors import N_, NotFound, PhopyError
from phopy.extensions import get_link_signer, get_storage
from phopy.sales import orders, pricing
from phopy.sales.promptpay import qr_svg
from phopy.services import downloads, events, links, photos
from phopy.web.headers import private
from phopy.web.i18n import translate
from phopy.web.security import limit_downloads, limit_zips
from phopy.web.stored import send_download

bp = Blueprint("sales", __name__, template_folder="templates")


@bp.route("/e/<code>/buy", methods=("POST",))
def buy(code):
    """Make an order of the photos picked from a result (or the bundle) and go pay it."""
    conn = get_db()
    event = events.get_event_by_code(conn, code)
    payload = links.read_token(get_link_signer(), request.form.get("t", ""),
                               current_app.config["PHOTO_LINK_MAX_AGE"])
    if payload.get("e") != event["id"] or not payload.get("ps"):
        raise NotFound(N_("This link is not valid."))
    try:
        _order, token = orders.create(conn, current_app.config, event,
                                      request.form.getlist("photos"), payload["ps"],
                                      request.form.get("bundle") == "1",
                                      request.form.get("email"))
    except PhopyError as exc:
        if exc.status_code == 404:
            raise
        page = render_template("sales/buy_error.html", event=event, error=translate(exc.message))
        return page, exc.status_code
    return redirect(url_for("sales.order_page", token=token), 303)


def _order_view(conn, token):
    order = orders.by_token(conn, token)
    return order, events.get_event(conn, order["event_id"])


@bp.route("/o/<token>")
def order_page(token):
    """The order: what it holds, the QR to pay while pending, the downloads once paid."""
    conn = get_db()
    order, event = _order_view(conn, token)
    page = render_template("sales/order.html", order=order, event=event, token=token,
                           items=orders.items(conn, order), baht=pricing.format_baht,
                           can_download=orders.can_download(order),
                           error=request.args.get("error"))
    return private(Response(page), 0)


@bp.route("/o/<token>/qr.svg")
def order_qr(token):
    """The QR code to pay a pending order with (drawn here: no outside image)."""
    order = orders.by_token(get_db(), token)
    if order["status"] != "pending" or not order["payment_qr"]:
        raise NotFound()
    return private(Response(qr_svg(order["payment_qr"]), mimetype="image/svg+xml"), 0)


@bp.route("/o/<token>/slip", methods=("POST",))
def upload_slip(token):
    """The buyer's transfer slip of a direct-PromptPay order, for the photographer."""
    conn = get_db()
    order = orders.by_token(conn, token)
    upload = request.files.get("slip")
    try:
        orders.attach_slip(conn, get_storage(), order, upload.read() if upload else b"")
    except PhopyError as exc:
        return redirect(url_for("sales.order_page", token=token, error=translate(exc.message)),
                        303)
    return redirect(url_for("sales.order_page", token=token), 303)


@bp.route("/o/<token>/photos/<int:photo_id>")
@limit_downloads
def order_photo(token, photo_id):
    """One paid photo, as every download is (with the event's banner when it has one)."""
    conn, store = get_db(), get_storage()
    order, event = _order_view(conn, token)
    if photo_id not in orders.downloadable_ids(conn, order):
        raise NotFound()
    photo = photos.get_event_photo(conn, event["id"], photo_id)
    orders.record_downloads(conn, order, [photo_id])
    got = downloads.photo_download(conn, store, current_app.config, photo, event)
    return send_download(store, got, as_attachment=True, max_age=0)


@bp.route("/o/<token>/photos.zip")
@limit_zips
def order_zip(token):
    """Every paid photo of the order as one ZIP (streamed, as search ZIPs are)."""
    conn = get_db()
    order, event = _order_view(conn, token)
    ids = orders.downloadable_ids(conn, order)
    if not ids:
        raise NotFound()
    rows = [photos.get_event_photo(conn, event["id"], pid) for pid in ids]
    orders.record_downloads(conn, order, ids)
    archive = downloads.zip_archive(get_database(), get_storage(), current_app.config, rows,
                                    event)
    response = Response(iter(archive), mimetype="application/zip")
    if archive.sized:
        response.content_length = len(archive)
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"phopy-{event['code']}-order.zip")
    return private(response, 0)


@bp.route("/o/<token>/receipt")
def receipt(token):
    """The receipt of a paid (or refunded) order."""
    conn = get_db()
    order, event = _order_view(conn, token)
    if order["status"] not in ("paid", "refunded"):
        raise NotFound(N_("There is no receipt before the order is paid."))
    page = render_template("sales/receipt.html", order=order, event=event,
                           items=orders.items(conn, order), baht=pricing.format_baht)
    return private(Response(page), 0)
