"""Orders: what a buyer picked, what it costs, and its life.

``pending`` (waiting for the payment) -> ``paid`` (the provider said so: Stripe's
signed webhook, or the photographer confirming a PromptPay slip) -> ``refunded``;
or ``pending`` -> ``expired`` (``SALES_ORDER_MINUTES`` passed with no payment and
no slip; the provider's payment is cancelled first) or ``rejected`` (the
photographer refused the slip).

The buyer gets a secret link (``/o/<token>``; only the token's SHA-256 is stored)
that shows the order and, once paid, its downloads for ``SALES_DOWNLOAD_DAYS``.
The buyer's e-mail and slip are erased at the order's ``erase_at``: when its
downloads end, a day after it expired or was rejected, and at the latest
``PENDING_KEEP_DAYS`` after an order that was never settled (``prune``).
"""
import hashlib
import logging
import re
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from phopy.data import sales as sales_db
from phopy.errors import N_, Conflict, Forbidden, NotFound, PhopyError, ValidationError
from phopy.sales import pricing as pricing_service
from phopy.sales.promptpay import checked_slip, slip_key
from phopy.sales.providers import get_provider

log = logging.getLogger(__name__)
PENDING_KEEP_DAYS = 30
CLOSED_KEEP_DAYS = 1
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")


def now_utc():
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(moment):
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def create(conn, config, event, picked, result_ids, bundle, email):
    """A new pending order for photos ``picked`` of a result ``result_ids`` (the signed
    set the buyer's search found), or for all of them with ``bundle``; return
    (order, secret token). The payment is started with the event's provider."""
    pricing = pricing_service.get_pricing(conn, event["id"])
    if pricing is None:
        raise NotFound(N_("Photos of this event are free."))
    result_ids = [int(p) for p in result_ids]
    chosen = list(result_ids) if bundle else sorted({int(p) for p in picked})
    if not chosen:
        raise ValidationError(N_("Pick at least one photo."), field="photos")
    if not set(chosen) <= set(result_ids):
        raise NotFound(N_("This link is not valid."))
    email = (email or "").strip()
    if email and not _EMAIL.match(email):
        raise ValidationError(N_("Write a valid e-mail address."), field="email")
    if not email and pricing["provider"] == "stripe":
        raise ValidationError(N_("Write your e-mail address: the receipt and your download "
                                 "link go there."), field="email")
    amount = pricing_service.quote(pricing, len(chosen),
                                   bundle=bundle or set(chosen) == set(result_ids))
    provider = get_provider(pricing["provider"], config)
    token = secrets.token_urlsafe(32)
    now = now_utc()
    order = {"id": uuid.uuid4().hex, "event_id": event["id"], "token_hash": hash_token(token),
             "email": email or None, "status": "pending",
             "kind": "bundle" if bundle else "photos", "amount": amount, "currency": "thb",
             "provider": provider.name, "created_at": iso(now),
             "expires_at": iso(now + timedelta(minutes=config["SALES_ORDER_MINUTES"])),
             "erase_at": iso(now + timedelta(days=PENDING_KEEP_DAYS))}
    sales_db.insert_order(conn, order, pricing_service.split(amount, chosen))
    try:
        payment = provider.start(order, pricing)
    except PhopyError:
        sales_db.close_order(conn, order["id"], "expired", iso(now),
                             iso(now + timedelta(days=CLOSED_KEEP_DAYS)))
        raise
    sales_db.set_payment(conn, order["id"], payment.ref, payment.qr)
    log.info("order %s: %d photos, %d satang, %s", order["id"], len(chosen), amount,
             provider.name)
    return sales_db.get_order(conn, order["id"]), token


def by_token(conn, token):
    """The order of a secret link, or NotFound."""
    order = sales_db.get_order_by_token_hash(conn, hash_token(token or "")) if token else None
    if order is None:
        raise NotFound(N_("This link is not valid."))
    return order


def owned(conn, order_id, event):
    """The order if it belongs to this (owned) event, or NotFound."""
    order = sales_db.get_order(conn, order_id)
    if order is None or order["event_id"] != event["id"]:
        raise NotFound(N_("This order does not exist."))
    return order


def items(conn, order):
    """The order's photos (``available``: the photo is still in the event)."""
    return [{**item, "available": item["photo_event_id"] == order["event_id"]}
            for item in sales_db.order_items(conn, order["id"])]


def can_download(order, now=None):
    """Whether the order's downloads are open now."""
    now = iso(now or now_utc())
    return order["status"] == "paid" and (order["downloads_until"] or "") > now


def downloadable_ids(conn, order):
    """The photo ids the order unlocks now (Forbidden before payment or after its days)."""
    if not can_download(order):
        raise Forbidden(N_("These photos are not paid for, or their downloads have ended."))
    return [i["photo_id"] for i in items(conn, order) if i["available"]]


def record_downloads(conn, order, photo_ids):
    """Count one download of each of these photos of the order."""
    sales_db.count_download(conn, order["id"], photo_ids)


def mark_paid(conn, config, order, now=None):
    """The payment went through; False when the order was already paid (recorded once)."""
    now = now or now_utc()
    until = now + timedelta(days=config["SALES_DOWNLOAD_DAYS"])
    done = sales_db.mark_paid(conn, order["id"], iso(now), iso(until), iso(until))
    if done:
        log.info("order %s paid (%s)", order["id"], order["provider"])
    return done


def attach_slip(conn, storage, order, data):
    """Store the buyer's transfer slip of a pending direct-PromptPay order."""
    if order["provider"] != "promptpay" or order["status"] != "pending":
        raise Conflict(N_("This order does not take a slip."))
    key = storage.save(slip_key(order["event_id"], order["id"]), checked_slip(data))
    sales_db.set_slip(conn, order["id"], key)


def confirm(conn, config, order):
    """The photographer saw the money: the PromptPay order is paid."""
    if order["provider"] != "promptpay" or order["status"] != "pending":
        raise Conflict(N_("Only a waiting PromptPay order can be confirmed."))
    return mark_paid(conn, config, order)


def reject(conn, storage, order):
    """The photographer found no money for the slip: the order is rejected."""
    if order["status"] != "pending":
        raise Conflict(N_("Only a waiting order can be rejected."))
    now = now_utc()
    return sales_db.close_order(conn, order["id"], "rejected", iso(now),
                                iso(now + timedelta(days=CLOSED_KEEP_DAYS)))


def refund(conn, config, order):
    """Give a paid order's money back through its provider; its downloads close."""
    if order["status"] != "paid":
        raise Conflict(N_("Only a paid order can be refunded."))
    get_provider(order["provider"], config).refund(order)
    return sales_db.mark_refunded(conn, order["id"], iso(now_utc()))


def handle_stripe_event(conn, config, event):
    """Apply one verified Stripe event once; what it did ('paid', 'refunded', ...)."""
    if not sales_db.claim_webhook_event(conn, event["id"], event["type"]):
        return "redelivery"
    obj = event["data"]["object"]
    if event["type"] in ("payment_intent.succeeded", "payment_intent.canceled"):
        order = sales_db.get_order_by_payment(conn, obj["id"])
    elif event["type"] == "charge.refunded":
        order = sales_db.get_order_by_payment(conn, obj.get("payment_intent"))
    else:
        return "ignored"
    if order is None:
        log.warning("Stripe event %s names no order (%s)", event["id"], obj.get("id"))
        return "unknown"
    if event["type"] == "payment_intent.succeeded":
        if int(obj["amount_received"] or 0) < order["amount"]:
            log.warning("order %s: %s received, %s due", order["id"], obj["amount_received"],
                        order["amount"])
            return "short"
        return "paid" if mark_paid(conn, config, order) else "already"
    if event["type"] == "charge.refunded":
        done = sales_db.mark_refunded(conn, order["id"], iso(now_utc()))
        return "refunded" if done else "already"
    now = now_utc()
    done = sales_db.close_order(conn, order["id"], "expired", iso(now),
                                iso(now + timedelta(days=CLOSED_KEEP_DAYS)))
    return "expired" if done else "already"


def expire_due(conn, config, now=None):
    """Expire pending orders past their time (their payment cancelled first); how many."""
    now = now or now_utc()
    count = 0
    for order in sales_db.due_to_expire(conn, iso(now)):
        try:
            cancelled = get_provider(order["provider"], config).cancel(order)
        except PhopyError as exc:  # the provider did not answer: try again next round
            log.warning("order %s not expired yet: %s", order["id"], exc)
            continue
        if cancelled and sales_db.close_order(conn, order["id"], "expired", iso(now),
                                              iso(now + timedelta(days=CLOSED_KEEP_DAYS))):
            count += 1
    return count


def prune(conn, storage, now=None):
    """Erase buyers' e-mails and slips that are due; return how many orders."""
    now = now or now_utc()
    due = sales_db.due_to_erase(conn, iso(now))
    for order in due:
        storage.delete(order["slip_key"])
        sales_db.close_order(conn, order["id"], "expired", iso(now), iso(now))
        sales_db.erase_buyer(conn, order["id"], iso(now))
    sales_db.prune_webhook_events(conn, iso(now - timedelta(days=30)))
    if due:
        log.info("buyer data erased from %d orders", len(due))
    return len(due)
