"""Which device and detector the face engine runs on (for the start-up banner).

dlib is imported inside the functions, so importing this module is cheap.
"""
import logging
from functools import lru_cache

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def cuda_device_count():
    """Return how many CUDA devices dlib can use (0 for a CPU-only dlib build)."""
    try:
        import dlib
    except ImportError:
        return 0
    # A CPU-only dlib still answers dlib.cuda.get_num_devices() with 1.
    if not getattr(dlib, "DLIB_USE_CUDA", False):
        return 0
    try:
        return int(dlib.cuda.get_num_devices())
    except Exception:  # no driver, broken runtime: fall back to the CPU
        log.warning("dlib was built with CUDA but no device could be queried", exc_info=True)
        return 0


def resolve_model(requested):
    """Turn "auto"/"hog"/"cnn" into the detector to run: "hog" or "cnn"."""
    requested = str(requested).strip().lower()
    if requested == "auto":
        return "cnn" if cuda_device_count() > 0 else "hog"
    if requested not in ("hog", "cnn"):
        raise ValueError(f"face model must be auto, hog or cnn, got {requested!r}")
    if requested == "cnn" and cuda_device_count() == 0:
        log.warning("FACE_MODEL=cnn without CUDA: detection will be very slow on the CPU")
    return requested


def resolve_detector(settings):
    """Return (detector that runs: "yunet", "hog" or "cnn", why it fell back or None).

    sface and mobilefacenet always use YuNet, and so does dlib when asked. dlib
    with detector "auto" (the default) uses YuNet when its pinned weights are in
    the model folder (start.sh fetches them): the same faces as HOG at about four
    times the speed (bench/RESULTS.md). Without them it falls back to ``FACE_MODEL``
    (HOG on a CPU) and says why, for the start-up banner and the log.
    """
    if settings.uses_yunet:
        return "yunet", None
    if settings.detector in ("hog", "cnn"):
        return resolve_model(settings.detector), None
    from phopy.faces.models import ModelError, default_dir, model_path
    directory = settings.model_dir or default_dir()
    try:
        model_path("yunet", directory)
    except (ModelError, OSError) as exc:
        fallback = resolve_model(settings.model)
        return fallback, (f"YuNet's weights are not usable in {directory} ({exc}); "
                          f"the dlib engine finds faces with {fallback.upper()} instead, "
                          f"slower. Run `python -m phopy.faces.models` to fetch them.")
    return "yunet", None


def describe(settings):
    """Return a dict describing the device and settings, for a start-up banner."""
    count = cuda_device_count()
    detector, fallback = resolve_detector(settings)
    onnx = None
    if detector == "yunet" or settings.engine != "dlib" or (settings.dlib_runtime == "onnx" and settings.num_jitters == 1):
        from phopy.faces.onnx_models import onnx_device
        onnx = onnx_device()
    return {
        "device": f"cuda ({count} devices)" if count else "cpu",
        "engine": settings.engine,
        "onnx_device": onnx,  # where onnxruntime runs the encoder (provider), if it does
        "model": detector,
        "detector_fallback": fallback,  # why the dlib engine is not on YuNet, or None
        "tolerance": settings.tolerance,
        "upsample": settings.upsample,
        "detect_max_side": settings.detect_max_side,
        "jitters": settings.num_jitters,
        "encoding_model": settings.encoding_model,
    }
