"""Periodic jobs: each declared by the package that owns its job, with :func:`periodic`.

An entry is a name, a job kind, an interval and arguments. The in-process
runner enqueues due entries through a lease row per entry
(``phopy.data.schedules``), so exactly one process runs each due job even with
several web processes. Under Celery, Celery Beat reads the same entries.
An interval is seconds, or a function of the app config giving seconds
(0 or None turns the entry off). Entry names are stored in schedule rows:
a name, once shipped, never changes. The factory calls :func:`check` at
start-up, so an entry naming a job nobody declared stops the app there.
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


PERIODIC = {}


class ScheduleError(RuntimeError):
    """A schedule entry is declared twice or names a job that does not exist."""


def periodic(name, kind, every, args=None):
    """Declare the schedule entry ``name``: run job ``kind`` every ``every`` seconds."""
    entry = Periodic(name, kind, every, dict(args or {}))
    existing = PERIODIC.get(name)
    if existing is not None and (existing.kind, existing.args) != (entry.kind, entry.args):
        raise ScheduleError(f"schedule entry {name!r} is declared twice "
                            f"({existing.kind} and {kind})")
    PERIODIC[name] = entry
    return entry


def get_entry(name):
    """The entry called ``name``, or None."""
    return PERIODIC.get(name)


def all_entries():
    """Every declared entry, on or off."""
    return list(PERIODIC.values())


def check(known_kinds):
    """Raise ScheduleError unless every entry names one of ``known_kinds``."""
    missing = sorted(f"{e.name} -> {e.kind}" for e in PERIODIC.values()
                     if e.kind not in set(known_kinds))
    if missing:
        raise ScheduleError("schedule entries name jobs that are not declared: "
                            + ", ".join(missing))


def entries(config):
    """The schedule entries that are on under ``config``."""
    return [p for p in PERIODIC.values() if p.interval(config) > 0]


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
