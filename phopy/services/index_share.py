"""Several workers on one event: photo claims with a lease, and helper tasks.

An event's ``index`` task does not list its unscanned photos and scan them all:
it *claims* a batch at a time (``photos.claimed_by`` = the task's id,
``claimed_at`` = the database's clock; PostgreSQL reads them ``FOR UPDATE SKIP
LOCKED``), so claimers at once each get other photos. While more photos are
unclaimed than one batch it queues ``index_part`` helper tasks (``parent_id``)
that idle workers run: they claim batches of the same event until none is left.
Shared, a claim takes the largest files first and about ``CLAIM_SECONDS`` of
work (by the pace of the holder's last batch), shrinking as the event nears its
end, so that no worker is left at the end with the heavy photos.

A thread renews the holder's claims every third of the lease; a worker that
dies stops renewing and its photos are claimed again once the lease has run out
(a resumed task holds the same id and takes its own claims back at once). A
task that stops on an error gives its claims up. The photo's checkpoint, written
with its faces in one transaction, stays the truth: a photo scanned twice (a
worker that was only slow) is stored once.
"""
import logging
import math
import threading

from phopy.data import photos as photos_db
from phopy.data import runners as runners_db
from phopy.data import tasks as tasks_db
from phopy.jobs.queue import enqueue

log = logging.getLogger(__name__)

INDEX_PART = "index_part"
DEFAULT_CELERY_HELPERS = 3
CLAIM_SECONDS = 2.0  # shared: a claim holds about this much work


def lease_seconds(config):
    """How long a claim lasts without renewal: the runner's stale-task window."""
    return max(1.0, float(config.get("TASK_STALE_SECONDS") or 60))


def helpers_wanted(config):
    """How many helper tasks an event's indexing may queue (INDEX_HELPERS; -1: 3 under
    Celery, whose workers may sit on other machines, none for the in-process runner)."""
    value = config.get("INDEX_HELPERS")
    value = -1 if value in (None, "") else int(value)
    if value < 0:
        return DEFAULT_CELERY_HELPERS if config.get("JOB_RUNNER") == "celery" else 0
    return value


class Claims:
    """One task's claims on an event's photos (``holder``: the task's id).

    Use as a context manager: the renewing thread runs inside it. Leaving it on an
    exception other than ``keep_on`` gives the claims up.
    """

    def __init__(self, database, conn, config, event_id, holder, *, batch_size,
                 min_batch=1, keep_on=()):
        self.database = database
        self.conn = conn
        self.event_id = event_id
        self.holder = holder
        self.lease = lease_seconds(config)
        self.batch_size = max(1, int(batch_size))
        self.min_batch = max(1, min(int(min_batch), self.batch_size))
        self.keep_on = keep_on
        self.sharing = helpers_wanted(config) > 0
        self.per_photo = None  # seconds a photo took in the last batch
        self._done = threading.Event()
        self._thread = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._renew, daemon=True,
                                        name=f"claims-{self.holder[:8]}")
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._done.set()
        self._thread.join(timeout=10)
        if exc_type is None or not issubclass(exc_type, self.keep_on):
            try:
                photos_db.release_claims(self.conn, self.holder, self.event_id)
            except Exception:  # the lease ends by itself; the first error is the one to tell
                log.exception("could not give up the claims of %s", self.holder)
        return False

    def _renew(self):
        every = self.lease / 3
        conn = None
        try:
            while not self._done.wait(every):
                try:
                    conn = conn or self.database.connect()
                    photos_db.renew_claims(conn, self.holder, self.event_id,
                                           runners_db.database_now(conn))
                except Exception:
                    log.exception("renewing the claims of %s failed; trying again", self.holder)
        finally:
            if conn is not None:
                conn.close()

    def now(self):
        return runners_db.database_now(self.conn)

    def unclaimed(self):
        """Unscanned photos of the event that no live claim holds."""
        return photos_db.count_unclaimed(self.conn, self.event_id, self.now(), self.lease)

    def timed(self, seconds, photos):
        """The last batch took ``seconds`` for ``photos``: size the next claims by it."""
        if photos:
            self.per_photo = seconds / photos

    def batch_limit(self, workers):
        """Photos to claim now: alone, the whole batch. Shared, small enough that the
        workers end together: about CLAIM_SECONDS of work (by the last batch's pace; the
        first claim is one photo per face process) and at most half a share of what is
        left."""
        if not self.sharing or workers <= 1:
            return self.batch_size
        share = math.ceil(self.unclaimed() / (2 * workers))
        timed = math.ceil(CLAIM_SECONDS / self.per_photo) if self.per_photo else self.min_batch
        return max(self.min_batch, min(self.batch_size, share, timed))

    def claim(self, workers=1):
        """The next batch of photos for this holder; [] when none is free. Shared, the
        largest files go first (the heavy photos are not left for the end)."""
        return photos_db.claim_unscanned(self.conn, self.event_id, self.holder, self.now(),
                                         self.lease, self.batch_limit(workers),
                                         biggest_first=self.sharing)


def workers_on(conn, parent_id):
    """How many tasks scan the event or are queued to: the parent and its helpers."""
    return 1 + len(tasks_db.children(conn, parent_id, ("pending", "running")))


def queue_helpers(conn, config, claims, parent_id):
    """Queue helper tasks (up to INDEX_HELPERS queued or running) while photos are
    unclaimed, one per batch of them; return how many were queued."""
    wanted = helpers_wanted(config)
    if wanted <= 0:
        return 0
    active = len(tasks_db.children(conn, parent_id, ("pending", "running")))
    if active >= wanted:
        return 0
    unclaimed = claims.unclaimed()
    need = min(wanted, math.ceil(unclaimed / claims.batch_size))
    for _ in range(need - active):
        enqueue(conn, INDEX_PART, {"event_id": claims.event_id, "parent_id": parent_id},
                event_id=claims.event_id, parent_id=parent_id)
    queued = max(0, need - active)
    if queued:
        log.info("event %s: %d helper tasks queued for %d unclaimed photos", claims.event_id,
                 queued, unclaimed)
    return queued


def faces_by_family(conn, event_id, parent_id):
    """Faces found by the task ``parent_id`` and its helpers (their checkpoints)."""
    ids = [parent_id] + [t["id"] for t in tasks_db.children(conn, parent_id)]
    return photos_db.faces_found_by(conn, event_id, ids)
