"""Selfie analysis off the web server's threads: a bounded queue before worker processes.

Decoding, detecting and encoding a selfie is CPU work that holds Python's GIL
in places; done in the threads that serve pages it made every page wait behind
a crowd of searches. Here it runs in its own pool of "spawn" processes (one
face engine each), and at most ``capacity`` searches may wait or run at once:
one more gets ``ServerBusy`` (HTTP 503 with Retry-After) at once instead of
queueing without end. Worker processes hand freed memory back to the system
when they have grown by more than TRIM_ABOVE. Plain Python: nothing here imports Flask.
"""
import ctypes
import ctypes.util
import logging
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context

from phopy.errors import ServerBusy

log = logging.getLogger(__name__)

_engine = None  # the worker process's FaceEngine
_libc = None
_baseline = None  # resident bytes after the first selfie
TRIM_ABOVE = 64 * 2**20


def release_memory():
    """Give freed heap memory back to the system (glibc keeps it otherwise)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def resident_bytes():
    """This process's resident memory now, or None where /proc cannot tell."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def release_if_grown():
    """Trim the heap when the process holds TRIM_ABOVE more than after its first
    selfie. Trimming after every selfie cost ~20 ms of page faults on the next one
    (its buffers come back from the system), for ~30 MB a worker keeps otherwise."""
    global _baseline
    now = resident_bytes()
    if now is None:
        release_memory()
    elif _baseline is None:
        _baseline = now
    elif now > _baseline + TRIM_ABOVE:
        release_memory()


def _init_worker(settings):
    global _engine
    from phopy.faces.engine import FaceEngine
    _engine = FaceEngine(settings)
    _engine.load()


def _analyze_in_worker(data):
    try:
        return _engine.analyze_selfie(data)
    finally:
        release_if_grown()


def _ready():
    return os.getpid()


class SelfieAnalyzer:
    """Analyses selfies in worker processes behind a bounded queue.

    ``engine`` given: analyse in the calling thread with that engine (tests,
    one-off CLI use); the queue bound still applies.
    """

    def __init__(self, settings, processes=None, capacity=64, timeout=60, engine=None):
        self.settings = settings
        self.processes = max(1, processes or os.cpu_count() or 1)
        self.capacity = max(1, capacity)
        self.timeout = timeout
        self.engine = engine
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._lock = threading.Lock()
        self._executor = None

    @contextmanager
    def slot(self):
        """Hold one place in the queue for a whole search, or raise ServerBusy now."""
        if not self._slots.acquire(blocking=False):
            raise ServerBusy()
        try:
            yield self
        finally:
            self._slots.release()

    def _pool(self):
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=get_context("spawn"),
                    initializer=_init_worker, initargs=(self.settings,))
            return self._executor

    def start(self):
        """Start the worker processes and load their models now (in the background)."""
        if self.engine is None:
            pool = self._pool()
            for _ in range(self.processes):
                pool.submit(_ready)
        return self

    def analyze_selfie(self, data):
        """The selfie's faces, largest first, like ``FaceEngine.analyze_selfie``."""
        if self.engine is not None:
            try:
                return self.engine.analyze_selfie(data)
            finally:
                release_if_grown()
        pool = self._pool()
        try:
            future = pool.submit(_analyze_in_worker, bytes(data))
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            log.warning("a selfie took longer than %ss; answering busy", self.timeout)
            raise ServerBusy() from None
        except BrokenProcessPool:
            log.warning("a selfie worker died; restarting the pool")
            with self._lock:
                if self._executor is pool:
                    self._executor = None
                    pool.shutdown(wait=False, cancel_futures=True)
            raise ServerBusy() from None

    def close(self):
        """Stop the worker processes."""
        with self._lock:
            pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
