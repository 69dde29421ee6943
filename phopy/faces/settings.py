"""Face engine settings: one frozen value, read from any config mapping.

``EngineSettings.from_mapping(app.config)`` or ``from_mapping(os.environ)``
reads the ``FACE_*`` keys below; missing or empty keys keep the defaults.
See ``phopy.faces.engine`` for what ``upsample`` and ``detect_max_side`` cost.
"""
from dataclasses import dataclass, fields

MODELS = ("auto", "hog", "cnn")
ENCODING_MODELS = ("large", "small")
ENGINES = ("sface", "dlib", "mobilefacenet")
DEFAULT_ENGINE = "sface"  # chosen by the bench's Asian and other figures (bench/RESULTS.md)
# Engines that find and align faces with YuNet's boxes and five keypoints.
YUNET_ENGINES = ("sface", "mobilefacenet")
# "auto" (dlib engine): YuNet when its weights are here, else FACE_MODEL decides
# (phopy.faces.device.resolve_detector); the other engines always use YuNet.
DETECTORS = ("auto", "hog", "cnn", "yunet")
DLIB_RUNTIMES = ("onnx", "dlib")  # who runs dlib's encoder (the same 128 values either way)


@dataclass(frozen=True)
class EngineProfile:
    """What an engine's encodings are and the thresholds that suit them.

    ``metric`` "euclidean": distance ‖a − b‖ (dlib). ``metric`` "cosine": the
    vectors are unit length and distance is 1 − cos(a, b) = ‖a − b‖² / 2.
    Thresholds come from the precision/recall sweep of ``python -m bench``; they
    belong to the engine, never to its metric (two engines may share a metric
    and a size, e.g. SFace and dlib are both 128-d).
    """

    engine: str
    size: int
    metric: str
    tolerance: float   # default match distance for one selfie ("your photos")
    confident: float   # one selfie this close is kept whatever the others say
    borderline: float  # up to here a face is asked about ("is this you?"), not shown


PROFILES = {
    # borderline: what lies between tolerance and it is offered as a face crop to confirm
    # or reject; chosen by bench.confirm (bench/RESULTS.md, "Is this you?"): sface 0.62
    # asks about half as many strangers as 0.65 (a 5%-wrong attendee's wrong "this is me"
    # costs precision) and loses only faces no stranger-free band reaches. dlib keeps 0.5
    # (its LFW-era behaviour); on Asian faces bench.confirm runs it at FACE_TOLERANCE=0.40
    # FACE_BORDERLINE=0.62, which the README recommends there.
    "sface": EngineProfile("sface", 128, "cosine", 0.545, 0.52, 0.62),
    "dlib": EngineProfile("dlib", 128, "euclidean", 0.5, 0.42, 0.6),
    "mobilefacenet": EngineProfile("mobilefacenet", 512, "cosine", 0.555, 0.5, 0.65),
}


def profile_for(engine):
    """The EngineProfile of an engine name (an EngineProfile is returned as is)."""
    if isinstance(engine, EngineProfile):
        return engine
    try:
        return PROFILES[str(engine).strip().lower()]
    except KeyError:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}") from None

# config key -> field name
CONFIG_KEYS = {
    "FACE_ENGINE": "engine",
    "FACE_DETECTOR": "detector",
    "FACE_MODEL_DIR": "model_dir",
    "FACE_MODEL": "model",
    "FACE_UPSAMPLE": "upsample",
    "FACE_DETECT_MAX_SIDE": "detect_max_side",
    "FACE_JITTERS": "num_jitters",
    "FACE_ENCODING_MODEL": "encoding_model",
    "FACE_TOLERANCE": "tolerance",
    "FACE_BORDERLINE": "borderline",
    "FACE_DLIB_RUNTIME": "dlib_runtime",
}


@dataclass(frozen=True)
class EngineSettings:
    """How faces are detected, encoded and matched (validated on creation)."""

    model: str = "auto"          # "auto" (cnn if dlib sees CUDA, else hog), "hog", "cnn"
    upsample: int = 1            # dlib upsample passes during detection (0-3)
    detect_max_side: int = 2400  # longest side of the detection copy; 0 = full size
    num_jitters: int = 1         # re-samples per encoding (1 = fastest)
    encoding_model: str = "large"  # landmarks for alignment: "large" (68) or "small" (5)
    tolerance: float = None      # max distance for one person; None: the engine's default
    engine: str = DEFAULT_ENGINE  # "sface" (128-d, cosine), "dlib" (128-d, Euclidean) or
    #                               "mobilefacenet" (512-d, cosine)
    detector: str = "auto"       # "auto" (YuNet when present, else ``model``), "hog", "cnn", "yunet"
    model_dir: str = ""          # fetched weights (phopy.faces.models); "" = default folder
    dlib_runtime: str = "onnx"   # dlib's encoder on "onnx" (onnxruntime, ~10x faster) or "dlib"
    borderline: float = None     # "is this you?" up to this distance; None: the engine's

    def __post_init__(self):
        object.__setattr__(self, "engine", _choice("engine", self.engine, ENGINES))
        object.__setattr__(self, "detector", _choice("detector", self.detector, DETECTORS))
        object.__setattr__(self, "dlib_runtime",
                           _choice("dlib_runtime", self.dlib_runtime, DLIB_RUNTIMES))
        if self.engine in YUNET_ENGINES and self.detector in ("hog", "cnn"):
            raise ValueError(f"detector {self.detector} only works with the dlib engine; "
                             f"{self.engine} finds faces with yunet")
        if self.detector in ("hog", "cnn"):
            object.__setattr__(self, "model", self.detector)
        elif self.engine == "dlib" and self.detector == "auto" and str(self.model).strip().lower() in ("hog", "cnn"):
            # FACE_MODEL named a dlib detector: that one, as before YuNet was the default
            object.__setattr__(self, "detector", str(self.model).strip().lower())
        if self.tolerance is None:
            object.__setattr__(self, "tolerance", self.profile.tolerance)
        object.__setattr__(self, "model_dir", str(self.model_dir or ""))
        object.__setattr__(self, "model", _choice("model", self.model, MODELS))
        object.__setattr__(self, "encoding_model",
                           _choice("encoding_model", self.encoding_model, ENCODING_MODELS))
        object.__setattr__(self, "upsample", _integer("upsample", self.upsample, 0, 3))
        object.__setattr__(self, "detect_max_side",
                           _integer("detect_max_side", self.detect_max_side, 0, 20000))
        if 0 < self.detect_max_side < 160:
            raise ValueError(f"detect_max_side must be 0 (full size) or at least 160, "
                             f"got {self.detect_max_side}")
        object.__setattr__(self, "num_jitters", _integer("num_jitters", self.num_jitters, 1, 100))
        object.__setattr__(self, "tolerance", _number("tolerance", self.tolerance, 0.0, 2.0))
        if self.borderline is None:
            object.__setattr__(self, "borderline", max(self.profile.borderline, self.tolerance))
        object.__setattr__(self, "borderline",
                           _number("borderline", self.borderline, 0.0, 2.0))
        # a band that starts at the tolerance: below it is "your photos" already
        object.__setattr__(self, "borderline", max(self.borderline, self.tolerance))

    @property
    def profile(self):
        """The EngineProfile (size, metric, default thresholds) of this engine."""
        return PROFILES[self.engine]

    @property
    def uses_yunet(self):
        """True when faces must be found by YuNet (always for sface and mobilefacenet;
        dlib with detector "auto" uses it when present, see device.resolve_detector)."""
        return self.engine in YUNET_ENGINES or self.detector == "yunet"

    @classmethod
    def from_mapping(cls, mapping):
        """Build settings from FACE_* keys of a dict-like; bad values raise ValueError."""
        values = {}
        for key, name in CONFIG_KEYS.items():
            value = mapping.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            values[name] = value.strip() if isinstance(value, str) else value
        try:
            return cls(**values)
        except ValueError as exc:
            by_field = {name: key for key, name in CONFIG_KEYS.items()}
            name = str(exc).split(" ", 1)[0]
            raise ValueError(f"{by_field.get(name, name)}: {exc}") from None

    def as_dict(self):
        """Return the settings as a plain dict of field name to value."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _choice(name, value, allowed):
    text = str(value).strip().lower()
    if text not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return text


def _integer(name, value, low, high):
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {number}")
    return number


def _number(name, value, low, high):
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not low < number <= high:
        raise ValueError(f"{name} must be above {low} and at most {high}, got {number}")
    return number
