"""Face engine settings: one frozen value, read from any config mapping.

``EngineSettings.from_mapping(app.config)`` or ``from_mapping(os.environ)``
reads the ``FACE_*`` keys below; missing or empty keys keep the defaults.
See ``phopy.faces.engine`` for what ``upsample`` and ``detect_max_side`` cost.
"""
from dataclasses import dataclass, fields

MODELS = ("auto", "hog", "cnn")
ENCODING_MODELS = ("large", "small")

# config key -> field name
CONFIG_KEYS = {
    "FACE_MODEL": "model",
    "FACE_UPSAMPLE": "upsample",
    "FACE_DETECT_MAX_SIDE": "detect_max_side",
    "FACE_JITTERS": "num_jitters",
    "FACE_ENCODING_MODEL": "encoding_model",
    "FACE_TOLERANCE": "tolerance",
}


@dataclass(frozen=True)
class EngineSettings:
    """How faces are detected, encoded and matched (validated on creation)."""

    model: str = "auto"          # "auto" (cnn if dlib sees CUDA, else hog), "hog", "cnn"
    upsample: int = 1            # dlib upsample passes during detection (0-3)
    detect_max_side: int = 2400  # longest side of the detection copy; 0 = full size
    num_jitters: int = 1         # re-samples per encoding (1 = fastest)
    encoding_model: str = "large"  # landmarks for alignment: "large" (68) or "small" (5)
    tolerance: float = 0.5       # max Euclidean distance between encodings of one person

    def __post_init__(self):
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
        object.__setattr__(self, "tolerance", _number("tolerance", self.tolerance, 0.0, 1.5))

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
