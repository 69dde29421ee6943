"""Selling photos, in one package: prices, watermarked previews, orders, payments.

Free events (no pricing row, the default) are untouched: nothing here runs for them.

- ``pricing``: free or paid, price per photo, bundle, package tiers; what an order costs.
- ``previews``: watermarked, reduced previews, cached in storage.
- ``orders``: an order's life (pending -> paid -> refunded / expired / rejected),
  its secret link, the buyer data's deletion.
- ``providers``: the payment interface; ``stripe_client`` (Stripe PaymentIntents with
  PromptPay) and ``promptpay`` (direct PromptPay QR and transfer slips).
- ``checkout``: the buyer's pages; ``webhook``: Stripe's signed webhook;
  ``dashboard``: the photographer's prices, orders, refunds, CSV and REST orders.
- ``jobs``: ``sales_expire`` and ``sales_prune`` with their schedule entries.

Templates are in ``templates/sales/`` beside this file; SQL in ``phopy.data.sales``.
The public photo links ask the paywall installed here (``phopy.web.paywall``).
"""
from phopy.web.paywall import Paywall


class SalesPaywall(Paywall):
    """A paid event shows previews; its downloads go through orders."""

    def locked(self, conn, event):
        from phopy.sales.pricing import get_pricing
        return get_pricing(conn, event["id"]) is not None

    def preview_key(self, conn, storage, config, event, photo):
        from phopy.sales.previews import ensure_preview
        return ensure_preview(storage, config, event, photo)


def event_offer(event):
    """The event's prices for its public pages (None when it is free)."""
    from phopy.data import get_db
    from phopy.sales.pricing import format_baht, get_pricing
    found = get_pricing(get_db(), event["id"])
    if found is None:
        return None
    return {**found, "photo_thb": format_baht(found["photo_price"]),
            "bundle_thb": format_baht(found["bundle_price"]) if found["bundle_price"] else None,
            "tiers": [{**t, "thb": format_baht(t["price"])} for t in found["tiers"]]}


def init_app(app):
    """Declare the sales jobs, register its pages and install the paywall (the factory
    calls this)."""
    from phopy.sales import checkout, dashboard, jobs, webhook  # noqa: F401  (jobs declare)
    from phopy.sales.providers import stripe_ready
    from phopy.web import paywall
    app.register_blueprint(checkout.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(dashboard.api)
    if stripe_ready(app.config):
        app.register_blueprint(webhook.bp)
    paywall.install(app, SalesPaywall())
    app.add_template_global(event_offer, "sales_offer")
