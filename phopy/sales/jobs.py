"""Selling's background jobs and their schedule entries.

- ``sales_expire`` (every minute): pending orders past ``SALES_ORDER_MINUTES`` with
  no slip are expired, their Stripe PaymentIntent cancelled first (so its QR can
  no longer be paid).
- ``sales_prune`` (hourly): buyers' e-mails and slips are erased at each order's
  ``erase_at``; Stripe webhook records are kept 30 days.
"""
from phopy.jobs.registry import job
from phopy.jobs.schedule import periodic
from phopy.sales import orders


@job("sales_expire", max_attempts=3)
def expire_job(ctx):
    """Job ``sales_expire``."""
    return {"expired": orders.expire_due(ctx.conn, ctx.config)}


@job("sales_prune", max_attempts=3)
def prune_job(ctx):
    """Job ``sales_prune``."""
    return {"erased": orders.prune(ctx.conn, ctx.storage)}


periodic("sales-expire", "sales_expire", 60)
periodic("sales-prune", "sales_prune", 3600)
