"""The start-up banner: where data lives and how faces are found."""
import logging

log = logging.getLogger(__name__)


def banner_lines(app):
    """The banner's lines for this app's configuration."""
    from phopy.extensions import get_engine_settings
    from phopy.faces.device import describe

    info = describe(get_engine_settings(app))
    lines = [
        "=" * 60,
        "  PHOPY — event photos to the people in them",
        "=" * 60,
        f"  Engine:      {info['engine']}" + _runtime(info, get_engine_settings(app)),
        *_engine_note(info),
        f"  Device:      dlib on {info['device']}",
        f"  Detector:    {info['model']}"
        + (f"  (onnxruntime on {info['onnx_device']})" if info["model"] == "yunet" else ""),
        *([f"  NOTE:        {info['detector_fallback']}"] if info["detector_fallback"] else []),
        f"  Weights:     {_weights(get_engine_settings(app))}",
        f"  Tolerance:   {info['tolerance']}",
        f"  Upsample:    {info['upsample']}  (detect at <= {info['detect_max_side']} px)",
        f"  Jitters:     {info['jitters']}",
        f"  Batch size:  {app.config['INDEX_BATCH_SIZE']}",
        f"  Workers:     {app.config['INDEX_WORKERS'] or 'one per CPU core'}",
        f"  Job runner:  {app.config['JOB_RUNNER']}",
        f"  Data folder: {app.config['DATA_DIR']}",
        f"  Database:    {app.config['DATABASE_URL'].split('@')[-1]}",
        f"  Public URL:  {app.config['PUBLIC_BASE_URL']}",
        "=" * 60,
    ]
    return lines


def _engine_note(info):
    """A plain word on dlib's accuracy on Asian faces when it is the engine chosen."""
    if info["engine"] != "dlib":
        return []
    return ["  NOTE:        dlib matches Asian faces poorly (many strangers' photos, "
            "bench/RESULTS.md);",
            "               FACE_ENGINE=sface (the default) is far more accurate."]


def _runtime(info, settings):
    """Where the encoder network runs: onnxruntime (MobileFaceNet, or dlib's
    network rebuilt by phopy.faces.dlib_onnx) or dlib itself."""
    if info["engine"] != "dlib":
        return f"  (onnxruntime on {info['onnx_device']})"
    if settings.dlib_runtime == "onnx" and settings.num_jitters == 1:
        return f"  (encoder on onnxruntime, {info['onnx_device']})"
    return "  (encoder on dlib)"


def _weights(settings):
    """Say whether the fetched weights the engine needs are in place."""
    from phopy.faces.models import ModelError, model_path, models_for, optional_models
    needed = [name for name in models_for(settings.engine, settings.detector)
              if name not in optional_models(settings.engine, settings.detector)]
    if not needed and settings.engine == "dlib":
        return "bundled with face_recognition_models"
    try:
        for name in needed:
            model_path(name, settings.model_dir)
    except ModelError as exc:
        log.error("%s", exc)
        return f"MISSING or damaged in {settings.model_dir}: run python -m phopy.faces.models"
    return f"{', '.join(needed)} checked in {settings.model_dir}"


def print_banner(app):
    """Print the banner and log it."""
    lines = banner_lines(app)
    print("\n".join(lines), flush=True)
    for line in lines:
        log.info(line)
