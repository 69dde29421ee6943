"""LINE records are kept for a while, then deleted (job ``line_prune``, hourly).

- outbox rows (every message sent to a user or a group): ``OUTBOX_KEEP_DAYS``
  after they were queued;
- webhook event ids (kept so a redelivery is processed once):
  ``WEBHOOK_KEEP_DAYS`` after they arrived;
- one-time tokens ('register' codes, 'add group' tokens): ``TOKEN_KEEP_DAYS``
  after they expired or were used.

An attendee's "delete my data" and unfollow delete the messages to them at once
(``phopy.line.attendees.delete_data``).
"""
import logging
from datetime import datetime, timedelta, timezone

from phopy.data import line as line_db
from phopy.jobs.registry import job
from phopy.jobs.schedule import periodic

log = logging.getLogger(__name__)
OUTBOX_KEEP_DAYS = 30
WEBHOOK_KEEP_DAYS = 7
TOKEN_KEEP_DAYS = 1


def prune(conn, now=None):
    """Delete LINE records past their keeping time; return how many of each."""
    now = now or datetime.now(timezone.utc)

    def before(days):
        return (now - timedelta(days=days)).replace(microsecond=0).isoformat()

    counts = line_db.prune(conn, before(OUTBOX_KEEP_DAYS), before(WEBHOOK_KEEP_DAYS),
                           (now - timedelta(days=TOKEN_KEEP_DAYS)).timestamp())
    if any(counts.values()):
        log.info("LINE records pruned: %s", counts)
    return counts


@job("line_prune", max_attempts=3)
def prune_job(ctx):
    """Job ``line_prune``: the hourly pruning of LINE records."""
    return prune(ctx.conn)


# Runs whether LINE is on or not: records kept while it was on still expire.
periodic("line-prune", "line_prune", 3600)
