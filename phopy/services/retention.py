"""Face data retention, for every event: purged some days after the event closes.

Photos stay until the photographer deletes them; the encodings of their faces
and the event's LINE registrations are deleted by the scheduled ``purge_faces``
job ``FACE_RETENTION_DAYS`` (or the event's own setting) after the event closed.
The event page then says face search ended. A LINE selfie's encoding is kept
while its user is in an event whose face data is kept; it goes when the last
such event is purged or deleted, and one in no such event is deleted
``FACE_RETENTION_DAYS`` after it was sent (the same job).
"""
import logging
from datetime import datetime, timedelta, timezone

from phopy.data import retention as retention_db
from phopy.errors import N_, ValidationError
from phopy.jobs.registry import job
from phopy.jobs.schedule import periodic
from phopy.services.crops import crops_prefix

log = logging.getLogger(__name__)
MAX_DAYS = 365


def mark_closed(conn, event_id):
    """Record that the event closed now (the retention clock starts)."""
    retention_db.mark_closed(conn, event_id)


def reopen(conn, event_id):
    """Open a closed event again (only while its faces are kept)."""
    retention_db.reopen(conn, event_id)


def retention_days(event, default_days):
    """Days the event's face data is kept after it closes."""
    days = event.get("face_retention_days")
    return int(days if days is not None else default_days)


def set_retention_days(conn, event_id, value):
    """Set an event's retention from a form value (empty: the default)."""
    value = (str(value) if value is not None else "").strip()
    if not value:
        retention_db.set_retention_days(conn, event_id, None)
        return None
    try:
        days = int(value)
    except ValueError:
        days = -1
    if not 0 <= days <= MAX_DAYS:
        raise ValidationError(N_("Keep face data 0 to 365 days."), field="face_retention_days")
    retention_db.set_retention_days(conn, event_id, days)
    return days


def purge_due(conn, default_days, now=None, storage=None):
    """Purge face data of every closed event past its retention (with the event's face
    crops in ``storage`` when given); return their ids."""
    now = now or datetime.now(timezone.utc)
    purged = []
    for event in retention_db.closed_unpurged(conn):
        closed = datetime.fromisoformat(event["closed_at"])
        if closed + timedelta(days=retention_days(event, default_days)) > now:
            continue
        with conn.transaction():
            retention_db.purge_faces(conn, event["id"])
        if storage is not None:
            storage.delete_prefix(crops_prefix(event["id"]))
        log.info("face data of event %s purged", event["id"])
        purged.append(event["id"])
    return purged


def expire_selfies(conn, days, now=None):
    """Delete LINE selfie encodings sent more than ``days`` ago whose user is in no
    event whose face data is kept; return how many."""
    now = now or datetime.now(timezone.utc)
    cutoff = (now - timedelta(days=days)).replace(microsecond=0).isoformat()
    with conn.transaction():
        expired = retention_db.expire_selfies(conn, cutoff)
    if expired:
        log.info("%d selfie encodings in no event expired", expired)
    return expired


@job("purge_faces", max_attempts=3)
def purge_faces_job(ctx):
    """Job ``purge_faces``: the scheduled retention purge (events, then lone selfies)."""
    days = ctx.config.get("FACE_RETENTION_DAYS", 7)
    return {"purged": purge_due(ctx.conn, days, storage=ctx.storage),
            "selfies_expired": expire_selfies(ctx.conn, days)}


periodic("purge-faces", "purge_faces", 3600)
