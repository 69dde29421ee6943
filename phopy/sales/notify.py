"""What happens once an order is paid: the receipt e-mail (``receipts``) and, when the
buyer came from the LINE gallery, a LINE push with the download link.

Both are queued in the caller's transaction (the payment's), so they exist exactly
when the payment was recorded; a redelivered payment finds the order already paid and
queues nothing more. Sending happens in jobs; a mail server or LINE that is down is
retried there and never changes the order.
"""
import logging

from phopy.data import events as events_db
from phopy.errors import N_
from phopy.sales.receipts import language, queue_receipt
from phopy.services.links import order_url

log = logging.getLogger(__name__)


def line_ready(config):
    """Whether LINE messages can be sent (a channel access token is set)."""
    return bool(config.get("LINE_CHANNEL_ACCESS_TOKEN"))


def line_message(config, order, event):
    """The LINE text message that gives the buyer their download link."""
    from phopy.line.messages import text
    return text(language(order.get("lang")),
                N_("✅ Payment received for your photos of %(event)s. Download them here "
                   "(the link is your key: keep it to yourself): %(link)s"),
                event=event["name"], link=order_url(config, order["id"]))


def queue_line_push(conn, config, order):
    """Queue the LINE push of a paid order whose buyer came from LINE; the outbox id."""
    if not order.get("line_user_id") or not line_ready(config):
        return None
    from phopy.line.outbox import queue_message
    event = events_db.get(conn, order["event_id"])
    return queue_message(conn, order["line_user_id"], [line_message(config, order, event)],
                         purpose=f"sales-paid:{order['id']}")


def after_paid(conn, config, order):
    """Queue the receipt e-mail and the LINE push of a just-paid order."""
    queue_receipt(conn, config, order)
    queue_line_push(conn, config, order)
