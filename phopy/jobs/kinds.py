"""Every built-in job kind, registered by name. Each is a plain service function."""
from phopy.jobs.registry import register
from phopy.services import indexing, maintenance

register("index", indexing.index_event, needs_pool=True, max_attempts=5)
register("prune_tasks", maintenance.prune_tasks, max_attempts=3)

from phopy.services import drive  # noqa: E402  (Google Drive folders)

register("drive_sync", drive.sync_event, max_attempts=4)
register("drive_sync_all", drive.sync_all, max_attempts=1)
