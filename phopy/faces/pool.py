"""Analyze many photos on every CPU core: one FaceEngine per worker process.

Workers are started with the "spawn" method (the parent is a threaded web
server, where fork is unsafe), load the models once, and exit on their own
when the parent dies, so a ``kill -9`` of the server leaves nothing behind.
A photo that fails yields an error string; a worker that crashes (a decoder
segfault) is replaced and its photos retried alone, so only the culprit fails.
"""
import logging
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from phopy.errors import ImageDecodeError

log = logging.getLogger(__name__)

_engine = None  # the worker process's FaceEngine


def analyze_source(engine, source):
    """Analyze one photo; return (PhotoAnalysis, None) or (None, error message)."""
    try:
        return engine.analyze_photo(source), None
    except ImageDecodeError as exc:
        return None, exc.message
    except FileNotFoundError:
        log.warning("photo file missing: %s", source)
        return None, "The photo file is missing."
    except Exception:  # one bad photo must not stop the batch; details go to the log
        log.exception("face analysis failed")
        return None, "The photo could not be analysed."


class FacePool:
    """Parallel photo analysis; a context manager; processes=1 runs in-process."""

    def __init__(self, settings, processes=None, max_in_flight=None, task=None):
        self.settings = settings
        self.processes = max(1, processes or os.cpu_count() or 1)
        self.max_in_flight = max_in_flight or 2 * self.processes
        self._task = task or analyze_source
        self._executor = None
        self._engine = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def analyze(self, items):
        """Yield (key, PhotoAnalysis | None, error | None) for (key, source) items, as done."""
        if self.processes == 1:
            yield from self._analyze_here(items)
        else:
            yield from self._analyze_in_workers(items)

    def close(self):
        """Stop the worker processes (pending work is cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _analyze_here(self, items):
        if self._engine is None:
            from phopy.faces.engine import FaceEngine
            self._engine = FaceEngine(self.settings)
        for key, source in items:
            analysis, error = self._task(self._engine, source)
            yield key, analysis, error

    def _analyze_in_workers(self, items):
        pending = {}  # future -> (key, source, ran alone)
        try:
            yield from self._drive(iter(items), pending)
        finally:  # the caller stopped early: drop work nobody will read
            for future in pending:
                future.cancel()

    def _drive(self, items, pending):
        suspects = deque()  # items that were in flight when a worker crashed
        exhausted = False
        while True:
            # Suspects run one at a time, so a second crash names the culprit.
            isolating = suspects or any(alone for _, _, alone in pending.values())
            while not isolating and not exhausted and len(pending) < self.max_in_flight:
                try:
                    key, source = next(items)
                except StopIteration:
                    exhausted = True
                    break
                pending[self._submit(source)] = (key, source, False)
            if suspects and not pending:
                key, source = suspects.popleft()
                pending[self._submit(source)] = (key, source, True)
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            crashed = False
            for future in done:
                key, source, alone = pending.pop(future)
                try:
                    analysis, error = future.result()
                except BrokenProcessPool:
                    crashed = True
                    if alone:
                        yield key, None, "analysis failed: the worker process crashed"
                    else:
                        suspects.append((key, source))
                    continue
                yield key, analysis, error
            if crashed:
                log.warning("a face worker crashed; restarting the pool")
                suspects.extend((key, source) for key, source, _ in pending.values())
                pending.clear()
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    def _submit(self, source):
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=get_context("spawn"),
                initializer=_init_worker, initargs=(self.settings, os.getpid()))
        return self._executor.submit(_run_task, self._task, source)


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


def _run_task(task, source):
    return task(_engine, source)
