"""Housekeeping jobs that keep a long-running Phopy tidy."""
import logging

from phopy.data import tasks as tasks_db
from phopy.data.timeutil import unix_now
from phopy.jobs.registry import job
from phopy.jobs.schedule import periodic
from phopy.logging_setup import prune_logs

log = logging.getLogger(__name__)


@job("prune_tasks", max_attempts=3)
def prune_tasks(ctx, keep_days=None):
    """Delete finished tasks older than ``TASK_KEEP_DAYS`` (each event keeps its latest)."""
    days = float(keep_days if keep_days is not None else ctx.config.get("TASK_KEEP_DAYS", 30))
    removed = tasks_db.prune_finished(ctx.conn, unix_now() - days * 86400)
    log.info("pruned %d finished tasks older than %s days", removed, days)
    return {"removed": removed}


periodic("prune-tasks", "prune_tasks",
         lambda cfg: 3600 * float(cfg.get("TASK_PRUNE_HOURS", 6) or 0))


@job("prune_logs", max_attempts=3)
def prune_logs_job(ctx):
    """Delete this machine's log files last written more than ``LOG_KEEP_DAYS`` ago (every
    process also does it at start)."""
    removed = prune_logs(ctx.config.get("LOG_DIR"), ctx.config.get("LOG_KEEP_DAYS", 30))
    return {"removed": removed}


periodic("prune-logs", "prune_logs", 86400)
