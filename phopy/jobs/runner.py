"""The background job runner: claims queued tasks and runs them off the request.

One runner lives in each serving process (a daemon thread) or in its own
process (``flask run-worker``). Runners claim tasks atomically in the
database, so several processes can poll the same queue. Indexing fans out to a
pool of worker processes, one face engine each, using every CPU core.
"""
import logging
import threading

from phopy.data import tasks as tasks_db
from phopy.services import indexing

log = logging.getLogger(__name__)


class TaskRunner:
    """Polls for tasks and runs them one at a time with a face pool."""

    def __init__(self, database, storage, engine_settings, *, processes=None, batch_size=32,
                 poll_seconds=1.0, stale_seconds=60.0, pool_factory=None, auto_index=True,
                 orphan_grace_seconds=300):
        self.database = database
        self.storage = storage
        self.engine_settings = engine_settings
        self.processes = processes or None
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.stale_seconds = stale_seconds
        self.runner_id = indexing.new_runner_id()
        self._pool_factory = pool_factory
        self.auto_index = auto_index
        self.orphan_grace_seconds = orphan_grace_seconds
        self._stop = threading.Event()
        self._thread = None

    def _make_pool(self):
        if self._pool_factory:
            return self._pool_factory()
        from phopy.faces.pool import FacePool
        return FacePool(self.engine_settings, processes=self.processes)

    def _abandoned(self, task):
        return indexing.is_abandoned(task, self.stale_seconds)

    def claim(self, conn):
        """Claim the next task for this runner, or None."""
        return tasks_db.claim(conn, self.runner_id, self._abandoned)

    def run_task(self, conn, task, pool):
        """Run one claimed task, sending heartbeats while it works."""
        done = threading.Event()

        def beat():
            beat_conn = self.database.connect()
            try:
                while not done.wait(max(0.5, min(5.0, self.stale_seconds / 3))):
                    if not tasks_db.heartbeat(beat_conn, task["id"], self.runner_id):
                        break
            finally:
                beat_conn.close()

        beater = threading.Thread(target=beat, name=f"heartbeat-{task['id'][:8]}", daemon=True)
        beater.start()
        try:
            return indexing.run_index_task(conn, self.storage, pool, task, self.runner_id,
                                           self.batch_size)
        finally:
            done.set()
            beater.join(timeout=10)

    def run_until_idle(self):
        """Claim and run tasks until none is left; return how many ran."""
        ran = 0
        pool = None
        conn = self.database.connect()
        try:
            while not self._stop.is_set():
                task = self.claim(conn)
                if task is None:
                    break
                if pool is None:
                    pool = self._make_pool()
                self.run_task(conn, task, pool)
                ran += 1
        finally:
            if pool is not None:
                pool.close()
            conn.close()
        return ran

    def recover(self):
        """After a crash: queue indexing of photos saved without a task, and remove
        stored files no photo points at. Returns (tasks queued, files removed)."""
        from phopy.services import photos
        conn = self.database.connect()
        try:
            queued = indexing.queue_interrupted_imports(conn) if self.auto_index else []
            removed = photos.remove_orphan_files(conn, self.storage, self.orphan_grace_seconds)
        finally:
            conn.close()
        if queued:
            log.warning("queued indexing of %d events whose upload was cut short", len(queued))
        return queued, removed

    def run_forever(self):
        """Recover from a crash, then poll for tasks until stopped."""
        log.info("job runner %s started", self.runner_id)
        try:
            self.recover()
        except Exception:
            log.exception("recovery at start failed; carrying on")
        while not self._stop.is_set():
            try:
                self.run_until_idle()
            except Exception:
                log.exception("job runner error; retrying")
            self._stop.wait(self.poll_seconds)
        log.info("job runner %s stopped", self.runner_id)

    def start(self):
        """Start polling in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run_forever, name="phopy-runner", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout=10):
        """Ask the runner to stop after the current task and wait a little."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
