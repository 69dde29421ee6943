"""Stripe's webhook: ``POST /sales/stripe/webhook``.

Only a body whose ``Stripe-Signature`` verifies with ``STRIPE_WEBHOOK_SECRET``
(``stripe.Webhook.construct_event``, which also refuses old timestamps) changes
anything; anything else is 400. Each Stripe event id is recorded, so a
redelivery changes nothing; a payment for an order that is already paid is
recorded once and unlocks nothing more.
"""
import logging

from flask import Blueprint, current_app, jsonify, request

from phopy.data import get_db
from phopy.sales import orders
from phopy.sales.stripe_client import verify_webhook
from phopy.web.security import csrf

log = logging.getLogger(__name__)
bp = Blueprint("sales_webhook", __name__, url_prefix="/sales")
csrf.exempt(bp)  # Stripe signs its calls instead


@bp.route("/stripe/webhook", methods=("POST",))
def stripe_webhook():
    """A Stripe event: payment succeeded or cancelled, charge refunded."""
    event = verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"),
                           current_app.config["STRIPE_WEBHOOK_SECRET"])
    if event is None:
        return jsonify({"error": "bad_signature"}), 400
    conn = get_db()
    with conn.transaction():
        outcome = orders.handle_stripe_event(conn, current_app.config, event)
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return jsonify({"received": True, "outcome": outcome})
