"""``POST /line/webhook``: verify the signature, record each event once, queue it.

Nothing slow happens here: every event becomes a ``line_event`` job (handled in
``phopy.line.handlers``), recorded in the same transaction as its
``webhookEventId``, so a redelivered event is processed once.
"""
import json
import logging

from flask import Blueprint, current_app, jsonify, request

from phopy.data import get_db
from phopy.data import line as line_db
from phopy.jobs.queue import enqueue
from phopy.web.security import csrf

log = logging.getLogger(__name__)
bp = Blueprint("line", __name__, url_prefix="/line")


def source_key(event):
    """Events of one chat are handled one at a time, in order."""
    source = event.get("source") or {}
    return source.get("groupId") or source.get("roomId") or source.get("userId") or "none"


@bp.route("/webhook", methods=("POST",))
@csrf.exempt
def webhook():
    """LINE's webhook: 400 for a bad or missing signature, else 200 at once."""
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.models.events import UnknownEvent

    body = request.get_data(as_text=True)
    signature = request.headers.get("X-Line-Signature", "")
    try:
        parsed = WebhookParser(current_app.config["LINE_CHANNEL_SECRET"]).parse(body, signature)
        raw_events = json.loads(body)["events"]
    except InvalidSignatureError:
        log.warning("LINE webhook with a bad signature refused")
        return jsonify(error="invalid_signature", message="Invalid signature."), 400
    except Exception as exc:  # malformed JSON or an event missing what LINE always sends
        log.warning("LINE webhook body refused: %s", str(exc)[:300])
        return jsonify(error="invalid_body", message="Invalid webhook body."), 400
    conn = get_db()
    queued = 0
    for event, raw in zip(parsed, raw_events):
        if isinstance(event, UnknownEvent):
            log.info("LINE event of unknown type %s ignored", raw.get("type"))
            continue
        with conn.transaction():
            if not line_db.claim_webhook_event(conn, raw["webhookEventId"]):
                log.info("LINE event %s already taken (redelivery)", raw["webhookEventId"])
                continue
            enqueue(conn, "line_event", {"event": raw}, lock_key=f"line:{source_key(raw)}")
        queued += 1
    return jsonify(ok=True, queued=queued)
