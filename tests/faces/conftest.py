"""Fixtures for the face engine tests: cached analyses on the session's engine.

The ``engine`` fixture itself comes from ``tests/conftest.py`` (one engine,
models loaded once, for the whole suite).
"""
import pytest


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
