"""The Celery runner (``JOB_RUNNER=celery``): the same jobs on workers across machines.

Shaped like Flask's Celery example: every Celery task runs inside the app
context, and ``phopy.jobs.worker`` is the entry file for ``celery -A``.

- A message carries only a task id. The worker claims that row
  (``tasks_db.claim(..., task_id=...)``) and runs it through the same
  :meth:`TaskRunner.execute` as the in-process runner: checkpoints, retries,
  progress and the dashboard behave the same. A duplicate or redelivered
  message finds the row already claimed or finished and does nothing.
- ``acks_late`` with a visibility timeout longer than the heartbeat window; a
  worker killed mid-task leaves a row whose heartbeat goes stale, and the sweep
  sends it again (so do lost messages: the database is the queue's truth).
- Celery Beat fires the declared schedule entries (``phopy.jobs.schedule``) and the sweep.

Views and services never import this module: ``phopy.jobs.init_app`` loads it
when ``JOB_RUNNER=celery`` and registers :func:`dispatch` with the queue.
"""
import logging
import threading
import uuid

from celery import Celery, Task
from flask import current_app

from phopy.data import get_database
from phopy.data import tasks as tasks_db
from phopy.data.timeutil import unix_now
from phopy.jobs import schedule
from phopy.jobs.liveness import is_abandoned
from phopy.jobs.queue import set_dispatcher
from phopy.jobs.registry import UnknownJob, get_kind

log = logging.getLogger(__name__)

RUN_TASK = "phopy.run_task"
RUN_PERIODIC = "phopy.run_periodic"
SWEEP = "phopy.sweep"


def celery_config(config):
    """Celery settings from the app config."""
    stale = float(config["TASK_STALE_SECONDS"])
    # Redis hands an unacknowledged message to another worker after this long;
    # keep it well past the heartbeat window so a live worker keeps its task.
    visibility = max(float(config["CELERY_VISIBILITY_TIMEOUT"]), 4 * stale)
    schedule_ = {
        f"periodic:{entry.name}": {"task": RUN_PERIODIC, "schedule": entry.interval(config),
                                   "args": (entry.name,)}
        for entry in schedule.entries(config)}
    schedule_["phopy-sweep"] = {"task": SWEEP,
                                "schedule": float(config["CELERY_SWEEP_SECONDS"])}
    return {
        "broker_url": config["REDIS_URL"],
        "broker_transport_options": {"visibility_timeout": visibility},
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_ignore_result": True,
        "task_default_queue": config["CELERY_QUEUE"],
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0.2,
                                      "interval_step": 0.5, "interval_max": 1},
        "beat_schedule": schedule_,
        "timezone": "UTC",
    }


def queue_for(config, kind):
    """Indexing (the face pool) has its own queue so quick jobs never wait behind it."""
    try:
        heavy = get_kind(kind).needs_pool
    except UnknownJob:
        heavy = False
    return config["CELERY_QUEUE"] + (".heavy" if heavy else "")


def init_celery(app, make_runner):
    """Make the app's Celery instance and register the dispatcher; return it.

    ``make_runner(app)`` builds the TaskRunner each worker process runs tasks with."""
    if "celery" in app.extensions:
        return app.extensions["celery"]
    if not app.config.get("REDIS_URL"):
        # Tasks stay queued in the database until a worker with REDIS_URL sweeps them.
        log.error("JOB_RUNNER=celery needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
        return None

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.config_from_object(celery_config(app.config))
    celery.set_default()
    app.extensions["celery_make_runner"] = make_runner
    _register_tasks(celery)
    app.extensions["celery"] = celery

    def dispatch(task, countdown=0.0):
        """Send a message naming the queued task (a retry waits ``countdown``)."""
        celery.send_task(RUN_TASK, args=(task["id"],), countdown=countdown or None,
                         queue=queue_for(app.config, task["kind"]))

    app.extensions["celery_dispatch"] = dispatch
    set_dispatcher(dispatch)
    from phopy.jobs.heartbeat import connect_celery_heartbeats
    app.extensions["celery_heartbeats"] = connect_celery_heartbeats(app)
    return celery


def _worker_runner():
    """This worker process's TaskRunner (one face pool kept for every task)."""
    app = current_app._get_current_object()
    state = app.extensions.setdefault("celery_runner", {"lock": threading.Lock()})
    with state["lock"]:
        if "runner" not in state:
            state["runner"] = app.extensions["celery_make_runner"](app)
            state["pool"] = None
            try:  # as the embedded runner does at start: uploads cut short, stray files
                state["runner"].recover()
            except Exception:
                log.exception("recovery at worker start failed; carrying on")
        return state


def _pool_getter(state):
    def get_pool():
        if state["pool"] is None:
            state["pool"] = state["runner"]._make_pool()
        return state["pool"]
    return get_pool


def _register_tasks(celery):
    @celery.task(name=RUN_TASK, bind=True, max_retries=None)
    def run_task(self, task_id):
        """Claim the task row and run it; a row not claimable now is left to its owner."""
        state = _worker_runner()
        runner = state["runner"]
        conn = get_database().connect()
        try:
            task = runner.claim(conn, task_id=task_id)
            if task is None:
                row = tasks_db.get(conn, task_id)
                if row is not None and row["status"] == "pending" \
                        and row["run_after"] > unix_now() + 0.5:
                    raise self.retry(countdown=row["run_after"] - unix_now())
                # Done, running elsewhere, or waiting for its lock key: the task that
                # holds the key sends it when it ends (and the sweep is the safety net).
                return None
            outcome = runner.execute(conn, task, _pool_getter(state))
            if task["lock_key"]:
                dispatch = current_app.extensions["celery_dispatch"]
                for waiting in tasks_db.pending_with_lock_key(conn, task["lock_key"]):
                    dispatch(waiting)
            return outcome
        finally:
            conn.close()

    self_id = uuid.uuid4().hex[:8]

    @celery.task(name=RUN_PERIODIC)
    def run_periodic(name):
        """Celery Beat fired a schedule entry: queue its job once per interval, however
        many beats fire it (the same lease row as the in-process runner)."""
        entry = schedule.get_entry(name)
        if entry is None:
            log.warning("unknown schedule entry %s", name)
            return None
        conn = get_database().connect()
        try:
            return enqueue_if_due(conn, current_app.config, entry, f"celery:{self_id}")
        finally:
            conn.close()

    @celery.task(name=SWEEP)
    def sweep():
        """Send again every task a lost message or a killed worker left behind."""
        app = current_app._get_current_object()
        conn = get_database().connect()
        try:
            return sweep_tasks(conn, app.config, app.extensions["celery_dispatch"])
        finally:
            conn.close()


def enqueue_if_due(conn, config, entry, holder):
    """Queue ``entry``'s job if this caller takes its lease now; return the task id or None.

    Times are the database's clock. The lease moves a little less than one interval
    forward, so the next tick of the same beat is due again while a second beat's tick
    within the same interval is not.
    """
    from phopy.data import runners as runners_db
    from phopy.data import schedules as schedules_db
    every = entry.interval(config)
    if every <= 0:
        return None
    with conn.transaction():
        now = runners_db.database_now(conn)
        schedules_db.ensure(conn, entry.name, now)
        if not schedules_db.take_if_due(conn, entry.name, now, now + every * 0.8, holder):
            log.info("periodic job %s already queued this interval; not again", entry.name)
            return None
        return schedule.enqueue_periodic(conn, entry)["id"]


def sweep_tasks(conn, config, dispatch, now=None):
    """Dispatch pending tasks due for a while and running tasks whose runner is gone."""
    now = now or unix_now()
    grace = float(config["CELERY_SWEEP_SECONDS"])
    stranded = tasks_db.list_pending(conn, older_than=now - grace, queued_before=now - grace)
    stranded += [t for t in tasks_db.list_running(conn)
                 if is_abandoned(t, float(config["TASK_STALE_SECONDS"]), now)]
    for task in stranded:
        dispatch(task)
    if stranded:
        log.info("sweep: sent %d stranded tasks again", len(stranded))
    return len(stranded)
