"""Messages to LINE users and groups, sent exactly once.

``queue_message`` writes an outbox row (with its own ``X-Line-Retry-Key``)
and queues the ``line_send`` job, in the caller's transaction: the message
exists if and only if its effect was stored. ``send_message`` (the job) uses
the reply token once when there is one (free), and otherwise pushes with the
row's retry key, so a push retried after a 5xx or a lost answer is delivered
once (LINE answers 409 for a key it already accepted).
"""
import json
import logging
import uuid

from phopy.data import line as line_db
from phopy.jobs.queue import enqueue
from phopy.jobs.registry import job
from phopy.line.client import AlreadyAccepted, LineApi, ReplyRefused

log = logging.getLogger(__name__)


def queue_message(conn, to_id, messages, *, reply_token=None, purpose=None):
    """Record messages for ``to_id`` and queue their sending; return the outbox id."""
    if not messages:
        return None
    if not to_id:  # an event without a user or group: nobody to answer
        log.info("message %s with no recipient dropped", purpose)
        return None
    with conn.transaction():
        outbox_id = line_db.insert_outbox(conn, str(uuid.uuid4()), to_id, messages,
                                          reply_token=reply_token, purpose=purpose)
        enqueue(conn, "line_send", {"outbox_id": outbox_id}, lock_key=f"line-send:{outbox_id}")
    return outbox_id


@job("line_send", max_attempts=8)
def send_message(ctx, outbox_id):
    """Job ``line_send``: deliver one outbox row (reply when possible, else push)."""
    from linebot.v3.messaging import ApiException

    conn = ctx.conn
    row = line_db.get_outbox(conn, outbox_id)
    if row is None or row["status"] != "pending":
        return {"status": row["status"] if row else "missing"}
    api = LineApi.from_config(ctx.config)
    messages = json.loads(row["messages"])
    if row["reply_token"]:
        line_db.drop_reply_token(conn, outbox_id)  # one try: a retry pushes instead
        try:
            api.reply(row["reply_token"], messages)
        except (ReplyRefused, Exception) as exc:  # noqa: B014 - any failure: push instead
            log.info("reply for outbox %s not taken (%s); pushing", outbox_id, exc)
        else:
            line_db.finish_outbox(conn, outbox_id, "sent", via="reply")
            return {"via": "reply"}
    try:
        api.push(row["to_id"], messages, row["retry_key"])
    except AlreadyAccepted:
        log.info("outbox %s was already accepted by LINE", outbox_id)
    except ApiException as exc:  # 4xx: retrying will not help
        line_db.finish_outbox(conn, outbox_id, "failed", via="push",
                              error=f"HTTP {exc.status}: {(exc.body or '')[:300]}")
        return {"via": "push", "error": exc.status}
    line_db.finish_outbox(conn, outbox_id, "sent", via="push")
    return {"via": "push"}
