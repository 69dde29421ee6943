"""The receipt e-mail: sent once to the buyer when an order is paid (job ``sales_receipt``).

Any SMTP server the operator configures (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``,
``SMTP_PASSWORD``, ``SMTP_FROM``, ``SMTP_STARTTLS`` or ``SMTP_SSL``), through Python's
own ``smtplib``. Without ``SMTP_HOST`` nothing is queued and nothing runs.

The message is in the buyer's language (the one they bought in: Thai or English) and
holds the receipt (event, order id, each photo with its share, the total in THB) and
the order's secret link. An SMTP server that cannot be reached or refuses the login is
a fault of the setup, not of the order: the job is retried with a message that says
which setting to check, and the order stays paid. ``receipt_sent_at`` records the
sending, so a redelivered payment or a second run sends nothing more.
"""
import functools
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from babel.support import Translations

from phopy.config import REPO_ROOT
from phopy.data import events as events_db
from phopy.data import sales as sales_db
from phopy.errors import N_, PhopyError, TransientError
from phopy.jobs.queue import enqueue
from phopy.sales.pricing import format_baht
from phopy.services.links import order_url

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 20
LANGUAGES = ("th", "en")


def mail_ready(config):
    """Whether receipts are e-mailed (an SMTP server is configured)."""
    return bool(config.get("SMTP_HOST"))


def queue_receipt(conn, config, order):
    """Queue the receipt of a just-paid order (in the caller's transaction); None when
    there is no SMTP server or no address to send it to."""
    if not mail_ready(config) or not order.get("email"):
        return None
    return enqueue(conn, "sales_receipt", {"order_id": order["id"]},
                   lock_key=f"sales-receipt:{order['id']}", reuse_pending=True)


@functools.lru_cache(maxsize=None)
def _catalog(lang):
    return Translations.load(str(REPO_ROOT / "translations"), [lang])


def language(lang):
    """'th' or 'en' for a stored language (Thai when unknown)."""
    lang = (lang or "").split("-")[0].split("_")[0].lower()
    return lang if lang in LANGUAGES else "th"


def _tr(lang, template, **params):
    text = _catalog(lang).gettext(template)
    return text % params if params else text


def sender(config):
    """The From address: SMTP_FROM, else SMTP_USER when it is an address, else
    phopy@<SMTP_HOST>."""
    user = config.get("SMTP_USER") or ""
    return config.get("SMTP_FROM") or (user if "@" in user else f"phopy@{config['SMTP_HOST']}")


def build_receipt(config, order, event, items, lang):
    """The receipt as an EmailMessage (plain text) to the order's e-mail."""
    lang = language(lang)
    link = order_url(config, order["id"])
    lines = [_tr(lang, N_("Thank you for your order. Your photos are ready to download.")),
             "",
             f"{_tr(lang, N_('Event'))}: {event['name']}",
             f"{_tr(lang, N_('Order'))}: {order['id']}",
             f"{_tr(lang, N_('Paid'))}: {(order['paid_at'] or '')[:16].replace('T', ' ')} UTC",
             ""]
    for item in items:
        name = item.get("filename") or _tr(lang, N_("Photo %(id)d"), id=item["photo_id"])
        lines.append(f"  {name}  {format_baht(item['amount'])} THB")
    lines += ["", f"{_tr(lang, N_('Amount'))}: {format_baht(order['amount'])} THB",
              f"{_tr(lang, N_('Paid with'))}: PromptPay"
              + (f" (Stripe {order['payment_ref']})" if order["provider"] == "stripe" else ""),
              "", _tr(lang, N_("Your photos (this link is your key: keep it to yourself):")),
              link, "",
              _tr(lang, N_("The downloads stay open until %(date)s UTC."),
                  date=(order["downloads_until"] or "")[:10]), "", "Phopy"]
    message = EmailMessage()
    message["Subject"] = _tr(lang, N_("Your photos of %(event)s: receipt"), event=event["name"])
    message["From"] = formataddr(("Phopy", sender(config)))
    message["To"] = order["email"]
    message["Message-ID"] = make_msgid(idstring=f"order-{order['id']}",
                                       domain=sender(config).rsplit("@", 1)[-1])
    message["Content-Language"] = lang
    message.set_content("\n".join(lines))
    return message


def _where(config):
    return f"{config['SMTP_HOST']}:{config['SMTP_PORT']}"


def send_mail(config, message):
    """Hand ``message`` to the configured SMTP server; the setup's faults become
    TransientError saying what to fix, a refused recipient a PhopyError."""
    host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
    try:
        if config.get("SMTP_SSL"):
            server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
        with server:
            if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
                server.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused:
        raise PhopyError(f"The mail server {_where(config)} refused the buyer's e-mail "
                         "address; the receipt is not sent.") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise TransientError(
            f"The mail server {_where(config)} refused the login ({exc.smtp_code}): check "
            "SMTP_USER and SMTP_PASSWORD.") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise TransientError(
            f"The mail server {_where(config)} does not support it ({str(exc)[:80]}): set "
            "SMTP_STARTTLS=0, or SMTP_SSL=1 for port 465, to match the server.") from None
    except ssl.SSLError as exc:
        raise TransientError(
            f"TLS with the mail server {_where(config)} failed ({str(exc)[:120]}): check "
            "SMTP_PORT, SMTP_STARTTLS and SMTP_SSL.") from None
    except (OSError, socket.timeout, smtplib.SMTPException) as exc:
        raise TransientError(
            f"The mail server {_where(config)} cannot be reached or answered badly "
            f"({str(exc)[:160]}): check SMTP_HOST and SMTP_PORT.") from None


def send_receipt(conn, config, order_id):
    """Send the receipt of a paid order once; what happened."""
    order = sales_db.get_order(conn, order_id)
    if order is None or order["status"] not in ("paid", "refunded"):
        return {"sent": False, "why": "not paid"}
    if order["receipt_sent_at"]:
        return {"sent": False, "why": "already sent"}
    if not order["email"]:
        return {"sent": False, "why": "no e-mail"}
    if not mail_ready(config):
        return {"sent": False, "why": "SMTP_HOST is not set"}
    event = events_db.get(conn, order["event_id"])
    items = sales_db.order_items(conn, order_id)
    send_mail(config, build_receipt(config, order, event, items, order["lang"]))
    sales_db.mark_receipt_sent(conn, order_id)
    log.info("receipt of order %s sent", order_id)
    return {"sent": True}
