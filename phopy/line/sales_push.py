"""A LINE push with the download link when a buyer who came from the LINE gallery has
paid (``line_user_id`` on the order), through the LINE outbox (sent once, retried)."""
import logging

from phopy.data import events as events_db
from phopy.errors import N_
from phopy.line.messages import text
from phopy.line.outbox import queue_message
from phopy.services.links import on_order_paid

log = logging.getLogger(__name__)


def paid_message(lang, event, link):
    """The LINE text message that gives the buyer their download link."""
    return text(lang, N_("✅ Payment received for your photos of %(event)s. Download them "
                         "here (the link is your key: keep it to yourself): %(link)s"),
                event=event["name"], link=link)


@on_order_paid
def push_download_link(conn, config, order, link):
    """Queue the push of a paid order whose buyer came from LINE; the outbox id."""
    if not order.get("line_user_id") or not config.get("LINE_CHANNEL_ACCESS_TOKEN"):
        return None
    event = events_db.get(conn, order["event_id"])
    return queue_message(conn, order["line_user_id"],
                         [paid_message(order.get("lang"), event, link)],
                         purpose=f"sales-paid:{order['id']}")
