"""The photographer's side of selling: an event's prices, its orders (confirm or reject
a PromptPay slip, refund), revenue per photo, a CSV of the orders, and the keyed
REST call ``GET /api/events/<id>/orders``."""
import csv
import io

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect,
                   render_template, request, url_for)
from flask_babel import gettext as _

from phopy.data import get_db
from phopy.errors import NotFound, PhopyError
from phopy.extensions import get_storage
from phopy.sales import orders, pricing, reports
from phopy.sales.providers import stripe_ready
from phopy.web.apiauth import auth_required, authenticate, keyed_limit, page_args, paged
from phopy.web.auth import login_required
from phopy.web.headers import private
from phopy.web.i18n import translate
from phopy.web.owner import owned_event
from phopy.web.security import csrf
from phopy.web.stored import send_stored

bp = Blueprint("sales_dashboard", __name__, url_prefix="/dashboard",
               template_folder="templates")
api = Blueprint("sales_api", __name__, url_prefix="/api")
csrf.exempt(api)  # keys need no CSRF; session writes are checked in auth_required
api.before_request(authenticate)


def _page(event, status=200, error=None, field=None, form=None):
    conn = get_db()
    page = render_template(
        "sales/event_sales.html", event=event, pricing=pricing.get_pricing(conn, event["id"]),
        **reports.overview(conn, event["id"]), baht=pricing.format_baht,
        stripe_ready=stripe_ready(current_app.config), error=error, field=field,
        form=form or {})
    return page, status


@bp.route("/events/<event_id>/sales")
@login_required
def event_sales(event_id):
    """Prices, orders and revenue of one event."""
    return _page(owned_event(event_id))


@bp.route("/events/<event_id>/sales/pricing", methods=("POST",))
@login_required
def save_pricing(event_id):
    """Free, or paid with a price per photo, a bundle and package tiers."""
    event = owned_event(event_id)
    try:
        saved = pricing.save_from_form(get_db(), event["id"], request.form,
                                       stripe_ready(current_app.config))
    except PhopyError as exc:
        return _page(event, exc.status_code, translate(exc.message),
                     exc.details.get("field"), request.form)
    flash(_("Prices saved: attendees now see previews and can buy.") if saved
          else _("This event is free: attendees download its photos."), "success")
    return redirect(url_for("sales_dashboard.event_sales", event_id=event["id"]))


@bp.route("/events/<event_id>/orders/<order_id>/<action>", methods=("POST",))
@login_required
def order_action(event_id, order_id, action):
    """Confirm or reject a PromptPay slip, or refund a paid order."""
    event = owned_event(event_id)
    conn = get_db()
    order = orders.owned(conn, order_id, event)
    try:
        if action == "confirm":
            orders.confirm(conn, current_app.config, order)
            flash(_("Payment confirmed: the buyer can download the photos."), "success")
        elif action == "reject":
            orders.reject(conn, get_storage(), order)
            flash(_("Order rejected."), "success")
        elif action == "refund":
            orders.refund(conn, current_app.config, order)
            flash(_("Order refunded: its downloads are closed."), "success")
        else:
            raise NotFound()
    except PhopyError as exc:
        if exc.status_code == 404:
            raise
        flash(translate(exc.message), "error")
    return redirect(url_for("sales_dashboard.event_sales", event_id=event["id"]))


@bp.route("/events/<event_id>/orders/<order_id>/slip.jpg")
@login_required
def order_slip(event_id, order_id):
    """The buyer's transfer slip, for the photographer only."""
    event = owned_event(event_id)
    order = orders.owned(get_db(), order_id, event)
    store = get_storage()
    if not order["slip_key"] or not store.exists(order["slip_key"]):
        raise NotFound()
    return send_stored(store, order["slip_key"], mimetype="image/jpeg", max_age=0)


CSV_COLUMNS = ("id", "created_at", "status", "kind", "photo_count", "amount_thb", "provider",
               "payment_ref", "paid_at", "refunded_at", "email")


@bp.route("/events/<event_id>/orders.csv")
@login_required
def orders_csv(event_id):
    """Every order of the event as CSV."""
    event = owned_event(event_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for order in reports.all_orders(get_db(), event["id"]):
        writer.writerow(reports.order_json(order))
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"phopy-{event['code']}-orders.csv")
    return private(response, 0)


@api.route("/events/<event_id>/orders")
@keyed_limit
@auth_required
def api_orders(event_id):
    """The event's orders, newest first (paged).
    ---
    get:
      tags: [sales]
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 1}}
        - {name: per_page, in: query, schema: {type: integer, minimum: 1, maximum: 100}}
      responses:
        '200': {description: 'Paged orders (amounts in satang)', content: {application/json: {schema: {type: object}}}}
        '400': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
    """
    event = owned_event(event_id)
    page, per_page, offset = page_args()
    conn = get_db()
    rows, total = reports.page_of_orders(conn, event["id"], per_page, offset)
    return jsonify(paged([reports.order_json(r) for r in rows], page, per_page, total))
