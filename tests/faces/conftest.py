"""Fixtures for the face engine tests: cached analyses, run on every engine.

``engine`` is parametrised here over ``ENGINE_NAMES`` (sface, dlib and
mobilefacenet, real models, each with its default detector), so every face
test runs with every engine.
"""
import numpy as np
import pytest

from tests.conftest import ENGINE_NAMES, make_engine_settings


@pytest.fixture(scope="session", params=ENGINE_NAMES)
def engine(request):
    """One real engine per engine name, models loaded once."""
    from phopy.faces import FaceEngine
    return FaceEngine(make_engine_settings(request.param))


def distance(engine, a, b):
    """Distance between two encodings in the engine's own metric."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if engine.settings.profile.metric == "cosine":
        return float(1.0 - a @ b)
    return float(np.linalg.norm(a - b))


def _cached(function):
    """Memoise a one-argument function on its argument."""
    cache = {}

    def run(path):
        if path not in cache:
            cache[path] = function(path)
        return cache[path]

    return run


@pytest.fixture(scope="session")
def analyze(engine):
    """analyze(path) -> PhotoAnalysis, cached so photos are analyzed once."""
    return _cached(engine.analyze_photo)


@pytest.fixture(scope="session")
def selfie(engine):
    """selfie(path) -> the largest face of a selfie, cached."""
    return _cached(engine.selfie_face)
