"""Every built-in job kind, registered by name. Each is a plain service function."""
from phopy.jobs.registry import register
from phopy.services import indexing, maintenance

register("index", indexing.index_event, needs_pool=True, max_attempts=5)
register("prune_tasks", maintenance.prune_tasks, max_attempts=3)

from phopy.services import drive  # noqa: E402  (Google Drive folders)

register("drive_sync", drive.sync_event, max_attempts=4)
register("drive_sync_all", drive.sync_all, max_attempts=1)
# LINE Official Account (phopy/line) and face data retention.
from phopy.line import handlers as line_handlers  # noqa: E402
from phopy.services import line_intake, line_outbox, retention  # noqa: E402

register("line_event", line_handlers.handle_event, max_attempts=3)
register("line_send", line_outbox.send_message, max_attempts=8)
register("line_intake", line_intake.intake_image, needs_pool=True, max_attempts=5)
register("line_auto_close", line_intake.auto_close, max_attempts=3)
register("purge_faces", retention.purge_faces_job, max_attempts=3)
