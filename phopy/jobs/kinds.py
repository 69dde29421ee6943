"""Every built-in job kind, registered by name. Each is a plain service function."""
from phopy.jobs.registry import register
from phopy.services import indexing, maintenance

register("index", indexing.index_event, needs_pool=True, max_attempts=5)
register("prune_tasks", maintenance.prune_tasks, max_attempts=3)
