"""Indexing throughput of Phopy's real pipeline (FacePool, all cores)."""
import os
import time
from multiprocessing import get_context

from bench.memory import PeakRSS


def index_with_phopy(paths, settings, processes=None, pool=None):
    """Index photos through ``FacePool`` (a new one, or ``pool``: its processes start
    with the first photo all the same when it is new); return analyses, seconds, peak
    RSS, errors, and each photo's time in its process (``photo_times``, see
    :func:`timed`).

    ``analyses`` maps path -> [(box, encoding)].
    """
    from contextlib import nullcontext

    from phopy.faces import FacePool

    analyses, errors, times = {}, {}, {}
    with PeakRSS() as rss:
        start = time.perf_counter()
        with nullcontext(pool) if pool else FacePool(settings, processes=processes) as pool:
            for key, result, error in pool.analyze(((p, p, (_analyze,)) for p in paths),
                                                   task=timed):
                analysis, times[key] = result[0], result[1:]
                if analysis is None:
                    errors[key] = str(error)
                    analyses[key] = []
                else:
                    analyses[key] = [(f.box, f.encoding) for f in analysis.faces]
        seconds = time.perf_counter() - start
    return {"analyses": analyses, "seconds": seconds, "peak_rss": rss.peak,
            "errors": errors, "photo_times": times}


def _analyze(engine, source):
    from phopy.faces.pool import analyze_source
    return analyze_source(engine, source)


def timed(engine, source, task, *extra):
    """A ``FacePool`` task that runs ``task`` and says how long it took in which
    process: ((result, seconds, pid, started), error)."""
    started = time.perf_counter()
    result, error = task(engine, source, *extra)
    return (result, time.perf_counter() - started, os.getpid(), started), error


def steady_mean(photo_times):
    """Mean seconds per photo once the models are loaded: the first photo each process
    took (which loaded them) is left out. ``photo_times``: {key: (seconds, pid,
    started)}."""
    first = {}
    for key, (_s, pid, started) in photo_times.items():
        if pid not in first or started < photo_times[first[pid]][2]:
            first[pid] = key
    rest = [s for key, (s, _p, _t) in photo_times.items() if key not in first.values()]
    return sum(rest) / len(rest) if rest else float("nan")


_ENGINE = None


def _init_engine(settings):
    global _ENGINE
    from phopy.faces import FaceEngine
    _ENGINE = FaceEngine(settings)


def _selfie_job(path):
    start = time.perf_counter()
    faces = _ENGINE.analyze_selfie(path)
    return path, (faces[0].encoding if faces else None), time.perf_counter() - start


def analyze_selfies(paths, settings, processes=None):
    """Encode each selfie's largest face with Phopy; return ({path: enc|None}, secs)."""
    with get_context("spawn").Pool(processes, initializer=_init_engine,
                                   initargs=(settings,)) as pool:
        out = list(pool.imap_unordered(_selfie_job, paths, chunksize=4))
    return {p: e for p, e, _ in out}, [s for _, _, s in out]
