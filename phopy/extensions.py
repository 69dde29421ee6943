"""Per-app singletons: photo storage, face engine, search cache, link signer.

The face engine is created on first use (models load lazily), one per process.
"""
import threading
from pathlib import Path

from flask import current_app

from phopy.storage import make_storage

_lock = threading.RLock()  # get_engine builds the settings under the same lock


def _get(app, name, factory):
    app = app or current_app
    value = app.extensions.get(name)
    if value is None:
        with _lock:
            value = app.extensions.get(name)
            if value is None:
                value = app.extensions[name] = factory(app)
    return value


def get_storage(app=None):
    """The app's Storage: a FileStorage under DATA_DIR, or S3 (STORAGE_BACKEND)."""
    return _get(app, "phopy_storage", lambda a: make_storage(a.config))


def get_engine_settings(app=None):
    """EngineSettings from the app's FACE_* config."""
    from phopy.faces import EngineSettings
    def build(a):
        values = {k: v for k, v in a.config.items() if k.startswith("FACE_") and v is not None}
        if not str(values.get("FACE_MODEL_DIR") or "").strip():
            values["FACE_MODEL_DIR"] = str(Path(a.config["DATA_DIR"]) / "models")
        return EngineSettings.from_mapping(values)

    return _get(app, "phopy_engine_settings", build)


def get_engine(app=None):
    """This process's FaceEngine (for selfies); models load on first analysis."""
    from phopy.faces import FaceEngine
    return _get(app, "phopy_engine", lambda a: FaceEngine(get_engine_settings(a)))


def get_selfie_analyzer(app=None):
    """This process's bounded selfie-analysis pool (in-thread with SEARCH_INLINE, for tests)."""
    from phopy.faces.selfie_pool import SelfieAnalyzer

    def build(a):
        cfg = a.config
        return SelfieAnalyzer(get_engine_settings(a), processes=cfg["SEARCH_WORKERS"] or None,
                              capacity=cfg["SEARCH_QUEUE_SIZE"],
                              timeout=cfg["SEARCH_TIMEOUT_SECONDS"],
                              engine=get_engine(a) if cfg.get("SEARCH_INLINE") else None)
    return _get(app, "phopy_selfie_analyzer", build)


def get_search_cache(app=None):
    """This process's cache of per-event face matrices."""
    from phopy.services.search import SearchCache
    return _get(app, "phopy_search_cache",
                lambda a: SearchCache(max_mb=a.config.get("SEARCH_CACHE_MAX_MB") or 0))


def get_link_signer(app=None):
    """Signs the photo links handed to attendees."""
    from phopy.services.links import link_signer
    return _get(app, "phopy_signer", lambda a: link_signer(a.config["SECRET_KEY"]))
