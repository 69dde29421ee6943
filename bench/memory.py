"""Resident memory: the search cache per 100k faces, and the peak while indexing."""
import gc
import threading
from multiprocessing import get_context

import numpy as np
import psutil


def tree_rss(process=None):
    """Resident bytes of a process and all its children."""
    process = process or psutil.Process()
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


class PeakRSS:
    """Context manager that samples the process tree's resident size."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.peak = tree_rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss())


def cache_rss_per_100k(real=None, faces=100_000):
    """Resident bytes a searched FaceIndex of ``faces`` faces holds, per 100k faces.

    Measured in a fresh process (RSS before and after building the index and
    running one search), so memory freed by earlier parts of the run does not
    hide the growth.
    """
    with get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_cache, (real, faces))


def _measure_cache(real, faces):
    from bench.latency import synthetic_encodings
    from phopy.faces import FaceIndex, match_photos

    gc.collect()
    before = psutil.Process().memory_info().rss
    encodings = synthetic_encodings(faces, real, seed=5)
    ids = np.arange(faces, dtype=np.int64)
    index = FaceIndex(ids, ids // 4, encodings, engine="dlib")
    match_photos(index, [encodings[0]], 0.5)   # builds whatever search keeps
    del encodings, ids
    gc.collect()
    after = psutil.Process().memory_info().rss
    scale = 100_000 / faces
    return {"faces": faces, "rss_bytes_per_100k": int((after - before) * scale),
            "index_nbytes_per_100k": int(index.nbytes * scale)}
