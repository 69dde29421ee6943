"""Selfie analysis off the web server's threads: a bounded queue before worker processes.

Decoding, detecting and encoding a selfie is CPU work that holds Python's GIL
in places; done in the threads that serve pages it made every page wait behind
a crowd of searches. Here it runs in its own pool of "spawn" processes (one
face engine each), and at most ``capacity`` searches may wait or run at once:
one more gets ``ServerBusy`` (HTTP 503 with Retry-After) at once instead of
queueing without end. Worker processes hand freed memory back to the system
after every selfie. Plain Python: nothing here imports Flask.
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
from dataclasses import replace
from multiprocessing import get_context

from phopy.errors import ServerBusy
from phopy.faces.images import shrink_encoded

log = logging.getLogger(__name__)

_engine = None  # the worker process's FaceEngine
_quick = None  # the same models, looking once at a small copy (see quick_engine)
_libc = None
# Selfies are looked at this size first: the face in a selfie is large, and a
# 12 MP phone JPEG (4000 or 4032 px) decodes at exactly 1/4 of its size for it.
SELFIE_SIDE = 960


def release_memory():
    """Give freed heap memory back to the system (glibc keeps it otherwise)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def quick_engine(engine):
    """An engine that scans a selfie once at SELFIE_SIDE without upsampling (a
    selfie's face is large), sharing ``engine``'s loaded models; None when the
    engine is not the HOG one (the CNN detector keeps its own settings)."""
    from phopy.faces.engine import FaceEngine
    if engine.model != "hog":
        return None
    quick = FaceEngine(replace(engine.settings, upsample=0, detect_max_side=SELFIE_SIDE))
    if getattr(engine, "_models", None) is not None and hasattr(quick, "_models"):
        quick._models = engine._models  # one copy of the models per process
    return quick


def analyze_selfie(engine, quick, data):
    """A selfie's faces, largest first: decoded at reduced size and scanned once
    quickly. The common case, one face, is answered from that; no face or
    several (a group selfie may hide a small one) get the full analysis of the
    original, so the faces found are the same as the full engine's."""
    if quick is not None:
        faces = quick.analyze_selfie(shrink_encoded(data, SELFIE_SIDE))
        if len(faces) == 1:
            return faces
    return engine.analyze_selfie(data)


def _init_worker(settings):
    global _engine, _quick
    from phopy.faces.engine import FaceEngine
    _engine = FaceEngine(settings)
    _engine.load()
    _quick = quick_engine(_engine)


def _analyze_in_worker(data):
    try:
        return analyze_selfie(_engine, _quick, data)
    finally:
        release_memory()


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
        self._quick = None

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
            if self._quick is None:
                self.engine.load()
                self._quick = quick_engine(self.engine) or False
            try:
                return analyze_selfie(self.engine, self._quick or None, data)
            finally:
                release_memory()
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
