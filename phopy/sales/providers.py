"""How an order is paid: one small interface, two providers.

- ``stripe``: a Stripe PaymentIntent with PromptPay as its payment method; the
  order is paid only when Stripe's signed webhook says so (``webhook``).
- ``promptpay``: a PromptPay QR for the photographer's own PromptPay id; the
  buyer uploads the transfer slip and the photographer confirms it.

``get_provider(name, config)`` gives the one for an order.
"""
from phopy.errors import N_, ValidationError
from phopy.sales.payment import Payment, Provider


class DirectPromptPay(Provider):
    """PromptPay straight to the photographer: a QR with the amount, a slip, a confirmation."""

    name = "promptpay"
    confirms_by_hand = True

    def start(self, order, pricing):
        from phopy.sales.promptpay import payload
        return Payment(ref=None, qr=payload(pricing["promptpay_id"], order["amount"]))

    def cancel(self, order):
        return True  # nothing to cancel: the photographer never confirms an expired order

    def refund(self, order):
        return None  # the photographer transfers the money back themselves


def stripe_ready(config):
    """Whether Stripe is set up (secret key and webhook signing secret)."""
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET"))


def get_provider(name, config):
    """The provider called ``name``."""
    if name == "promptpay":
        return DirectPromptPay()
    if name == "stripe":
        if not stripe_ready(config):
            raise ValidationError(N_("Card and QR payments are not set up here."))
        from phopy.sales.stripe_client import StripeProvider
        return StripeProvider(config)
    raise ValidationError(N_("Choose how buyers pay."))
