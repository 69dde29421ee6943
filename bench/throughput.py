"""Indexing throughput of Phopy's real pipeline (FacePool, all cores)."""
import time
from multiprocessing import get_context

from bench.memory import PeakRSS


def index_with_phopy(paths, settings, processes=None):
    """Index photos through ``FacePool``; return analyses, seconds, peak RSS, errors.

    ``analyses`` maps path -> [(box, encoding)].
    """
    from phopy.faces import FacePool

    analyses, errors = {}, {}
    with PeakRSS() as rss:
        start = time.perf_counter()
        with FacePool(settings, processes=processes) as pool:
            for key, analysis, error in pool.analyze((p, p) for p in paths):
                if analysis is None:
                    errors[key] = str(error)
                    analyses[key] = []
                else:
                    analyses[key] = [(f.box, f.encoding) for f in analysis.faces]
        seconds = time.perf_counter() - start
    return {"analyses": analyses, "seconds": seconds, "peak_rss": rss.peak,
            "errors": errors}


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
