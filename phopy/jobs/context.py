"""What a running job gets: its task, a database connection, storage, config, faces."""
import logging

from phopy.data import tasks as tasks_db

log = logging.getLogger(__name__)


class TaskLost(Exception):
    """The task was deleted or taken over by another runner."""


class JobContext:
    """Handed to every job function as its first argument.

    ``pool`` (the face-engine process pool, for indexing) and ``engine`` (one
    in-process engine, for selfies) are made on first use. ``search`` is what a
    selfie search needs, ``(search_cache, engine_settings)``: the process's cache
    of event face matrices, shared with the web, and the running engine.
    """

    def __init__(self, *, database, conn, storage, config, task, runner_id,
                 pool_factory=None, engine_factory=None, on_photo=None, search_cache=None,
                 engine_settings=None):
        self.database = database
        self.conn = conn
        self.storage = storage
        self.config = config
        self.task = task
        self.runner_id = runner_id
        self._pool_factory = pool_factory
        self._engine_factory = engine_factory
        self.on_photo = on_photo  # called as on_photo(photo, analysis, error) by indexing
        self._pool = None
        self._engine = None
        self.search_cache = search_cache
        self.engine_settings = engine_settings

    @property
    def task_id(self):
        return self.task["id"]

    @property
    def pool(self):
        if self._pool is None:
            self._pool = self._pool_factory()
        return self._pool

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    @property
    def search(self):
        return self.search_cache, self.engine_settings

    def progress(self, progress, total, current_item=None, faces_found=None):
        """Record progress; raise TaskLost when the task is no longer ours."""
        if not tasks_db.update_progress(self.conn, self.task_id, self.runner_id,
                                        progress=progress, total=total,
                                        current_item=current_item, faces_found=faces_found):
            raise TaskLost(self.task_id)
