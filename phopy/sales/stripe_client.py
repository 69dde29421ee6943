"""The one adapter around the ``stripe`` library (PaymentIntents with PromptPay, refunds,
signed webhooks); Stripe's errors become Phopy's.

``STRIPE_API_BASE`` sends every call elsewhere (the fake Stripe server in tests);
unset, the library's own base (https://api.stripe.com). Each create carries an
idempotency key made from the order, so a retried call never charges twice.
"""
import logging

import stripe

from phopy.errors import N_, Conflict, PhopyError, TransientError
from phopy.sales.payment import Payment, Provider

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 20


def make_client(config):
    """A StripeClient for the configured account (and base URL)."""
    base = {"api": config["STRIPE_API_BASE"].rstrip("/")} if config.get("STRIPE_API_BASE") \
        else None
    return stripe.StripeClient(config["STRIPE_SECRET_KEY"], base_addresses=base,
                               max_network_retries=2,
                               http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS))


def translate_error(exc):
    """A Stripe error as a Phopy error: what is worth retrying becomes TransientError."""
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)):
        return TransientError(N_("The payment service did not answer. Please try again."))
    log.warning("Stripe refused: %s", getattr(exc, "user_message", None) or exc)
    return PhopyError(N_("The payment service refused this payment."))


class StripeProvider(Provider):
    """Stripe: a PaymentIntent paid by PromptPay QR, marked paid by its webhook only."""

    name = "stripe"

    def __init__(self, config):
        self.client = make_client(config)

    def start(self, order, pricing):
        params = {"amount": order["amount"], "currency": "thb",
                  "payment_method_types": ["promptpay"],
                  "payment_method_data": {"type": "promptpay",
                                          "billing_details": {"email": order["email"]}},
                  "confirm": True,
                  "metadata": {"order_id": order["id"], "event_id": order["event_id"]},
                  "receipt_email": order["email"]}
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": f"phopy-order-{order['id']}"}
            ).to_dict()
        except stripe.StripeError as exc:
            raise translate_error(exc) from None
        action = intent.get("next_action") or {}
        qr = (action.get("promptpay_display_qr_code") or {}).get("data")
        if not qr:
            raise PhopyError(N_("The payment service gave no QR code for this payment."))
        return Payment(ref=intent["id"], qr=qr)

    def cancel(self, order):
        if not order.get("payment_ref"):
            return True
        try:
            intent = self.client.v1.payment_intents.retrieve(order["payment_ref"]).to_dict()
            if intent["status"] == "succeeded":
                return False
            if intent["status"] != "canceled":
                self.client.v1.payment_intents.cancel(order["payment_ref"])
        except stripe.InvalidRequestError as exc:
            log.info("PaymentIntent %s not cancelled: %s", order["payment_ref"], exc)
            return False
        except stripe.StripeError as exc:
            raise translate_error(exc) from None
        return True

    def refund(self, order):
        try:
            self.client.v1.refunds.create(
                params={"payment_intent": order["payment_ref"]},
                options={"idempotency_key": f"phopy-refund-{order['id']}"})
        except stripe.InvalidRequestError as exc:
            log.warning("refund of %s refused: %s", order["id"], exc)
            raise Conflict(N_("The payment service refused the refund.")) from None
        except stripe.StripeError as exc:
            raise translate_error(exc) from None


def verify_webhook(payload, signature, secret):
    """The Stripe event of a webhook body (a plain dict), or None when its signature is
    wrong."""
    try:
        return stripe.Webhook.construct_event(payload, signature, secret).to_dict()
    except (ValueError, stripe.SignatureVerificationError) as exc:
        log.info("Stripe webhook refused: %s", exc)
        return None
