"""What happens once an order is paid: the receipt e-mail (``receipts``) and the hooks
of the channels the buyer came from (``phopy.services.links.order_paid``: the LINE
channel pushes the download link to a buyer who bought from the LINE gallery).

Both are queued in the caller's transaction (the payment's), so they exist exactly
when the payment was recorded; a redelivered payment finds the order already paid and
queues nothing more. Sending happens in jobs; a mail server or LINE that is down is
retried there and never changes the order.
"""
from phopy.sales.receipts import queue_receipt
from phopy.services.links import order_paid


def after_paid(conn, config, order):
    """Queue the receipt e-mail and the channels' messages of a just-paid order."""
    queue_receipt(conn, config, order)
    order_paid(conn, config, order)
