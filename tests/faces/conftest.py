"""Fixtures for the face engine tests: one loaded engine, cached analyses."""
import pytest

from phopy.faces import EngineSettings, FaceEngine


@pytest.fixture(scope="session")
def engine():
    """One FaceEngine with default settings, models loaded once per session."""
    face_engine = FaceEngine(EngineSettings())
    face_engine.load()
    return face_engine


@pytest.fixture(scope="session")
def analyze(engine):
    """analyze(path) -> PhotoAnalysis, cached so photos are analyzed once."""
    cache = {}

    def run(path):
        if path not in cache:
            cache[path] = engine.analyze_photo(path)
        return cache[path]

    return run


@pytest.fixture(scope="session")
def selfie(engine):
    """selfie(path) -> the largest face of a selfie, cached."""
    cache = {}

    def run(path):
        if path not in cache:
            cache[path] = engine.selfie_face(path)
        return cache[path]

    return run

