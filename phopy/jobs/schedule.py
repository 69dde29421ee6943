"""Periodic jobs, declared once here: name, job kind, interval, arguments.

The in-process runner enqueues due entries through a lease row per entry
(``phopy.data.schedules``), so exactly one process runs each due job even with
several web processes. Under Celery, Celery Beat reads the same list.
An interval is seconds, or a function of the app config giving seconds
(0 or None turns the entry off).
"""
import logging
from dataclasses import dataclass, field

from phopy.data import schedules as schedules_db
from phopy.data.timeutil import unix_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """One schedule entry."""

    name: str
    kind: str
    every: object  # seconds, or callable(config) -> seconds
    args: dict = field(default_factory=dict)

    def interval(self, config):
        """Seconds between runs under ``config``; 0 when off."""
        value = self.every(config) if callable(self.every) else self.every
        return float(value or 0)


def _google_on(config):
    """Drive syncs cost nothing while Google is not configured."""
    from phopy.google import is_configured
    return is_configured(config) or bool(config.get("GOOGLE_API_KEY"))


PERIODIC = (
    Periodic("prune-tasks", "prune_tasks",
             lambda cfg: 3600 * float(cfg.get("TASK_PRUNE_HOURS", 6) or 0)),
    Periodic("drive-sync", "drive_sync_all",
             lambda cfg: 60 * float(cfg.get("DRIVE_SYNC_MINUTES", 5) or 0)
             if _google_on(cfg) else 0),
    # Close LINE group events idle for LINE_AUTO_CLOSE_MINUTES (only with LINE set up).
    Periodic("line-auto-close", "line_auto_close",
             lambda cfg: 300 if cfg.get("LINE_CHANNEL_ACCESS_TOKEN")
             and float(cfg.get("LINE_AUTO_CLOSE_MINUTES") or 0) > 0 else 0),
    # Purge face data FACE_RETENTION_DAYS after each event closes.
    Periodic("purge-faces", "purge_faces", 3600),
)


def entries(config):
    """The schedule entries that are on under ``config``."""
    return [p for p in PERIODIC if p.interval(config) > 0]


def enqueue_periodic(conn, entry):
    """Queue one run of ``entry`` (not twice while one is still queued)."""
    from phopy.jobs.queue import enqueue
    return enqueue(conn, entry.kind, entry.args, lock_key=f"schedule:{entry.name}",
                   reuse_pending=True)


def run_due(conn, config, holder, now=None):
    """Enqueue every entry that is due and that this caller wins; return their names."""
    now = now or unix_now()
    started = []
    for entry in entries(config):
        every = entry.interval(config)
        with conn.transaction():
            schedules_db.ensure(conn, entry.name, now + every)  # first run one interval in
            if not schedules_db.take_if_due(conn, entry.name, now, now + every, holder):
                continue
            enqueue_periodic(conn, entry)
        started.append(entry.name)
        log.info("periodic job %s queued by %s", entry.name, holder)
    return started
