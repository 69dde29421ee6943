"""The in-process job runner: claims queued tasks of every kind and runs them.

One runner lives in each serving process (daemon threads) or in its own
process (``flask run-worker``). Runners claim tasks atomically in the
database, so several processes can poll the same queue. Two lanes keep long
indexing from holding up quick jobs: the heavy lane runs kinds that use the
face-engine process pool, the light lane runs the rest and the schedule.
The Celery worker (``phopy.jobs.celery_app``) runs tasks through the same
``execute``.
"""
import logging
import os
import threading
from types import SimpleNamespace

from tenacity import wait_exponential

from phopy import metrics
from phopy.data import runners as runners_db
from phopy.data import tasks as tasks_db
from phopy.data.timeutil import unix_now
from phopy.errors import PhopyError, TransientError
from phopy.jobs import liveness, schedule
from phopy.jobs.context import JobContext, TaskLost
from phopy.jobs.queue import dispatch
from phopy.jobs.registry import UnknownJob, get_kind, kinds, recovery_hooks

log = logging.getLogger(__name__)


def retry_delay(attempt, config, retry_after=None):
    """Seconds before retry number ``attempt`` (exponential, capped; Retry-After wins)."""
    wait = wait_exponential(multiplier=float(config.get("JOB_RETRY_BASE_SECONDS", 2)),
                            max=float(config.get("JOB_RETRY_MAX_SECONDS", 300)))
    delay = wait(SimpleNamespace(attempt_number=attempt))
    if retry_after:
        delay = max(delay, float(retry_after))
    return delay


def error_text(exc):
    """A readable one-line error for the dashboard."""
    if isinstance(exc, PhopyError):
        return str(exc.message)[:500]
    # Details go to the log; the dashboard gets no Python internals.
    return "The job stopped on an unexpected error; resume it to try again."


class TaskRunner:
    """Claims tasks and runs them through the job registry."""

    def __init__(self, database, storage, engine_settings, *, config=None, processes=None,
                 batch_size=32, poll_seconds=1.0, stale_seconds=60.0, pool_factory=None,
                 engine_factory=None, search_cache=None):
        self.database = database
        self.storage = storage
        self.engine_settings = engine_settings
        self.search_cache = search_cache  # the web's, so jobs and pages share one per process
        self.config = dict(config or {})
        self.config.setdefault("INDEX_BATCH_SIZE", batch_size)
        self.processes = processes or None
        self.poll_seconds = poll_seconds
        self.stale_seconds = stale_seconds
        self.runner_id = liveness.new_runner_id()
        self._pool_factory = pool_factory
        self._engine_factory = engine_factory
        self._stop = threading.Event()
        self._wake = {"heavy": threading.Event(), "light": threading.Event()}
        self._threads = []
        self.started = unix_now()

    # -- pieces -------------------------------------------------------------
    def _make_pool(self):
        if self._pool_factory:
            return self._pool_factory()
        from phopy.faces.pool import FacePool
        return FacePool(self.engine_settings, processes=self.processes)

    def _make_engine(self):
        if self._engine_factory:
            return self._engine_factory()
        from phopy.faces import FaceEngine
        return FaceEngine(self.engine_settings)

    def _abandoned(self, task):
        return liveness.is_abandoned(task, self.stale_seconds)

    def claim(self, conn, kinds_=None, task_id=None):
        """Claim the next task (of ``kinds_``, or that one task) for this runner, or None."""
        return tasks_db.claim(conn, self.runner_id, self._abandoned, kinds_, task_id)

    def wake(self, task=None, countdown=0.0):
        """Dispatcher: a task was queued, look now rather than at the next poll."""
        if countdown:
            return
        lanes = self._wake.values()
        if task is not None:
            try:
                lanes = [self._wake["heavy" if get_kind(task["kind"]).needs_pool else "light"]]
            except UnknownJob:
                pass
        for event in lanes:
            event.set()

    # -- running one task ---------------------------------------------------
    def execute(self, conn, task, pool_getter=None):
        """Run one claimed task to its end; return completed, failed, retrying or lost."""
        done = threading.Event()

        def beat():
            beat_conn = self.database.connect()
            try:
                while not done.wait(max(0.5, min(5.0, self.stale_seconds / 3))):
                    runners_db.beat(beat_conn, self.runner_id, liveness.HOST, os.getpid(),
                                    self.started)
                    if not tasks_db.heartbeat(beat_conn, task["id"], self.runner_id):
                        break
            finally:
                beat_conn.close()

        beater = threading.Thread(target=beat, name=f"heartbeat-{task['id'][:8]}", daemon=True)
        beater.start()
        try:
            return self._execute(conn, task, pool_getter)
        finally:
            done.set()
            beater.join(timeout=10)

    def _execute(self, conn, task, pool_getter):
        ctx = JobContext(database=self.database, conn=conn, storage=self.storage,
                         config=self.config, task=task, runner_id=self.runner_id,
                         pool_factory=pool_getter or self._make_pool,
                         engine_factory=self._make_engine, on_photo=metrics.PhotoTimer(),
                         search_cache=self.search_cache,
                         engine_settings=self.engine_settings)
        try:
            job = get_kind(task["kind"])
            result = job.func(ctx, **tasks_db.decode_args(task))
        except TaskLost:
            log.warning("task %s was deleted or taken over; stopping", task["id"])
            return "lost"
        except TransientError as exc:
            return self._retry_or_fail(conn, task, exc)
        except Exception as exc:
            if not isinstance(exc, PhopyError):
                log.exception("task %s (%s) failed", task["id"], task["kind"])
            else:
                log.warning("task %s (%s) failed: %s", task["id"], task["kind"], exc.message)
            tasks_db.finish(conn, task["id"], self.runner_id, "failed", error_text(exc))
            metrics.TASK_FAILURES.labels(task["kind"]).inc()
            return "failed"
        finally:
            if pool_getter is None and ctx._pool is not None:
                ctx._pool.close()
        tasks_db.finish(conn, task["id"], self.runner_id, "completed", result=result)
        return "completed"

    def _retry_or_fail(self, conn, task, exc):
        attempts = task["attempts"] or 1
        if attempts >= (task["max_attempts"] or 1):
            log.warning("task %s (%s) failed after %d attempts: %s", task["id"], task["kind"],
                        attempts, exc.message)
            tasks_db.finish(conn, task["id"], self.runner_id, "failed", error_text(exc))
            metrics.TASK_FAILURES.labels(task["kind"]).inc()
            return "failed"
        delay = retry_delay(attempts, self.config, exc.retry_after)
        log.info("task %s (%s) attempt %d failed (%s); retrying in %.1fs", task["id"],
                 task["kind"], attempts, exc.message, delay)
        if tasks_db.retry_later(conn, task["id"], self.runner_id, unix_now() + delay,
                                error_text(exc)):
            dispatch(tasks_db.get(conn, task["id"]), delay)
        return "retrying"

    # -- loops --------------------------------------------------------------
    def run_until_idle(self, kinds_=None):
        """Claim and run due tasks (of ``kinds_``) until none is left; return how many ran."""
        ran = 0
        pool = None

        def get_pool():
            nonlocal pool
            if pool is None:
                pool = self._make_pool()
            return pool

        conn = self.database.connect()
        try:
            while not self._stop.is_set():
                task = self.claim(conn, kinds_)
                if task is None:
                    break
                self.execute(conn, task, get_pool)
                ran += 1
        finally:
            if pool is not None:
                pool.close()
            conn.close()
        return ran

    def beat(self):
        """Record in the database that this runner is alive (GET /health reads it)."""
        conn = self.database.connect()
        try:
            runners_db.beat(conn, self.runner_id, liveness.HOST, os.getpid(), self.started)
            runners_db.forget_older_than(conn, unix_now() - 24 * 3600)
        finally:
            conn.close()

    def recover(self):
        """After a crash: run every declared recovery hook (``@on_recover``: photos
        saved without a task get one, stored files no photo points at go). Returns
        ``{hook name: what it returned}``; one failing hook does not stop the others."""
        done = {}
        conn = self.database.connect()
        try:
            for hook in recovery_hooks():
                try:
                    done[hook.__name__] = hook(conn, self.storage, self.config)
                except Exception:
                    log.exception("recovery step %s failed; carrying on", hook.__name__)
        finally:
            conn.close()
        return done

    def run_schedule(self):
        """Queue the periodic jobs that are due (one process wins each)."""
        conn = self.database.connect()
        try:
            return schedule.run_due(conn, self.config, self.runner_id)
        finally:
            conn.close()

    def _lane(self, name):
        lane_kinds = kinds(needs_pool=(name == "heavy"))
        wake = self._wake[name]
        while not self._stop.is_set():
            try:
                if name == "light":
                    self.beat()
                    if self.config.get("JOB_SCHEDULE", True):
                        self.run_schedule()
                self.run_until_idle(lane_kinds)
            except Exception:
                log.exception("job runner %s lane error; retrying", name)
            wake.wait(self.poll_seconds)
            wake.clear()

    def run_forever(self):
        """Run both lanes until stopped (blocks)."""
        log.info("job runner %s started", self.runner_id)
        self.start()
        try:
            while not self._stop.is_set():
                self._stop.wait(1.0)
        finally:
            self.stop()
        log.info("job runner %s stopped", self.runner_id)

    def start(self):
        """Start the lanes in daemon threads."""
        if not self._threads:
            from phopy.jobs.queue import set_dispatcher
            try:
                self.recover()
            except Exception:
                log.exception("recovery at start failed; carrying on")
            set_dispatcher(self.wake)
            for name in ("heavy", "light"):
                thread = threading.Thread(target=self._lane, args=(name,),
                                          name=f"phopy-runner-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self, timeout=10):
        """Ask the runner to stop after the current tasks and wait a little."""
        from phopy.jobs.queue import remove_dispatcher
        remove_dispatcher(self.wake)
        self._stop.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
