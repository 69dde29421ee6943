"""Analyze many photos on every CPU core: one FaceEngine per worker process.

Workers are started with the "spawn" method (the parent is a threaded web
server, where fork is unsafe), load the models once, and exit on their own
when the parent dies, so a ``kill -9`` of the server leaves nothing behind.
A photo that fails yields an error string; a worker that crashes (a decoder
segfault) is replaced and its photos retried alone, so only the culprit fails.

Other work on a photo runs on the same processes with its own task
(``analyze(items, task=...)``: bib reading), keeping the crash and storage
handling below.

Indexing passes storage keys (``analyze(items, storage=...)``): each worker
process builds its own storage from ``storage.settings()`` and reads the bytes
itself, so no path of a stored photo leaves ``phopy.storage``.

Only a fault of the photo becomes its error string. A fault of the machine
raises instead and ends the batch: a photo that is not in storage, or storage
that cannot be reached, is a ``StorageUnavailable`` (the job retries); an engine
that cannot load its model files is an ``EngineUnavailable`` (the task fails,
naming the file and how to fetch it).
"""
import logging
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from phopy.errors import (EngineUnavailable, PhopyError, StorageMissing, StorageUnavailable,
                          TransientError)

log = logging.getLogger(__name__)

_engine = None  # the worker process's FaceEngine
_storages = {}  # the worker process's storages, by their settings

FETCH_MODELS = ("Fetch the model files with `python -m phopy.faces.models --all` (into "
                "FACE_MODEL_DIR, else PHOPY_DATA_DIR/models) on every machine that indexes, "
                "then resume the task.")


def load_engine(engine):
    """Load the engine's models now; raise EngineUnavailable when they cannot load."""
    try:
        engine.load()
    except Exception as exc:
        log.error("the face engine cannot load its models: %s", exc)
        raise EngineUnavailable(f"The face engine cannot load its models: {exc}. "
                                f"{FETCH_MODELS}") from exc


def analyze_source(engine, source):
    """Analyze one photo (bytes or a local path); return (PhotoAnalysis, None) or
    (None, error message). Raises EngineUnavailable or StorageUnavailable for a
    fault of this machine, never blaming the photo for it."""
    load_engine(engine)
    try:
        return engine.analyze_photo(source), None
    except TransientError:
        raise
    except PhopyError as exc:  # undecodable, too many pixels, ...
        return None, exc.message
    except FileNotFoundError:
        raise StorageUnavailable(f"The photo file {source} is missing on this machine.") \
            from None
    except Exception:  # one bad photo must not stop the batch; details go to the log
        log.exception("face analysis failed")
        return None, "The photo could not be analysed."


def read_stored(storage, key):
    """The bytes of a stored photo; a key that is not stored is a StorageUnavailable
    (retried), since the photo row says it was saved: storage is not shared."""
    try:
        return storage.read(key)
    except StorageMissing:
        log.error("photo %s is not in %s", key, storage.describe())
        raise StorageUnavailable(
            f"The photo {key} is not in storage ({storage.describe()}): every machine must "
            "share the same storage (STORAGE_BACKEND=s3, or one shared folder at "
            "PHOPY_DATA_DIR).", key=key) from None


def _worker_storage(settings):
    """This worker's storage for ``settings``, built once."""
    from phopy.storage import make_storage
    frozen = tuple(sorted((k, str(v)) for k, v in settings.items()))
    if frozen not in _storages:
        _storages[frozen] = make_storage(settings)
    return _storages[frozen]


class FacePool:
    """Parallel photo analysis; a context manager; processes=1 runs in-process."""

    def __init__(self, settings, processes=None, max_in_flight=None, task=None):
        self.settings = settings
        self.processes = max(1, processes or os.cpu_count() or 1)
        self.max_in_flight = max_in_flight or 2 * self.processes
        self._task = task or analyze_source
        self._executor = None
        self._engine = None
        self._storage_settings = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def analyze(self, items, storage=None, task=None):
        """Yield (key, PhotoAnalysis | None, error | None) for (key, source) items, as done.

        With ``storage``, each source is a storage key whose bytes the analysing
        process reads itself; otherwise sources are bytes or local paths.
        ``task`` (a module-level function, default the pool's: face analysis) is
        called as ``task(engine, source, *extra)`` for items (key, source, extra),
        and returns (result, error): other photo work (bib reading) shares the
        pool's processes and its crash and storage handling.
        """
        task = task or self._task
        items = ((i[0], i[1], tuple(i[2]) if len(i) > 2 else ()) for i in items)
        if self.processes == 1:
            yield from self._analyze_here(items, storage, task)
        else:
            yield from self._analyze_in_workers(items, storage, task)

    def close(self):
        """Stop the worker processes (pending work is cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _analyze_here(self, items, storage, task):
        if self._engine is None:
            from phopy.faces.engine import FaceEngine
            self._engine = FaceEngine(self.settings)
        if storage is None:
            for key, source, extra in items:
                analysis, error = task(self._engine, source, *extra)
                yield key, analysis, error
            return
        # Read the next photo from storage while this one is analysed: a network
        # store (S3) costs its latency once per batch instead of once per photo.
        items = iter(items)
        with ThreadPoolExecutor(1, thread_name_prefix="phopy-read-ahead") as reader:
            following = next(items, None)
            reading = following and (following, reader.submit(read_stored, storage,
                                                              following[1]))
            while reading:
                (key, _key, extra), future = reading
                following = next(items, None)
                source = future.result()  # StorageUnavailable as when read here
                reading = following and (following, reader.submit(read_stored, storage,
                                                                  following[1]))
                analysis, error = task(self._engine, source, *extra)
                yield key, analysis, error

    def _analyze_in_workers(self, items, storage, task):
        pending = {}  # future -> ((key, source, extra), ran alone)
        self._storage_settings = storage.settings() if storage is not None else None
        try:
            yield from self._drive(iter(items), pending, task)
        finally:  # the caller stopped early: drop work nobody will read
            for future in pending:
                future.cancel()

    def _drive(self, items, pending, task):
        suspects = deque()  # items that were in flight when a worker crashed
        exhausted = False
        while True:
            # Suspects run one at a time, so a second crash names the culprit.
            isolating = suspects or any(alone for _, alone in pending.values())
            while not isolating and not exhausted and len(pending) < self.max_in_flight:
                try:
                    item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                pending[self._submit(task, item)] = (item, False)
            if suspects and not pending:
                item = suspects.popleft()
                pending[self._submit(task, item)] = (item, True)
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            crashed = False
            for future in done:
                item, alone = pending.pop(future)
                try:
                    analysis, error = future.result()
                except BrokenProcessPool:
                    crashed = True
                    if alone:
                        yield item[0], None, "analysis failed: the worker process crashed"
                    else:
                        suspects.append(item)
                    continue
                yield item[0], analysis, error
            if crashed:
                log.warning("a face worker crashed; restarting the pool")
                suspects.extend(item for item, _ in pending.values())
                pending.clear()
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    def _submit(self, task, item):
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=get_context("spawn"),
                initializer=_init_worker, initargs=(self.settings, os.getpid()))
        _key, source, extra = item
        return self._executor.submit(_run_task, task, source, self._storage_settings, extra)


def _init_worker(settings, parent_pid):
    """Build this worker's FaceEngine and watch for the parent's death."""
    global _engine
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                     name="phopy-parent-watch").start()
    from phopy.faces.engine import FaceEngine
    _engine = FaceEngine(settings)  # models load with the first photo


def _watch_parent(parent_pid, interval=1.0):
    """Exit this worker at once when the parent process is gone."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(interval)


def _run_task(task, source, storage_settings=None, extra=()):
    if storage_settings is not None:
        source = read_stored(_worker_storage(storage_settings), source)
    return task(_engine, source, *extra)
