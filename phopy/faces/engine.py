"""Find and encode the faces in one photo or selfie with dlib.

Pipeline for an event photo: read the oriented size from the header, decode a
detection copy whose longest side is at most ``detect_max_side`` (libjpeg's
draft mode when that halves the decode), run the detector there, scale the
boxes back to the full-resolution oriented image, and only when faces were
found decode the full image and encode each face from it (dlib cuts a 150 px
aligned chip per face, so the cost per face does not grow with the photo).

Detection size is the main cost/recall trade-off. dlib's HOG detector finds
faces down to about 60 px of the detection image at ``upsample=0`` and about
30 px at ``upsample=1``; each upsample doubles the side it scans (~3-4x time).
So the smallest face found in the original is roughly
``30 * longest_side / detect_max_side`` at upsample 1. Measured on one core,
4000x3000 JPEG, HOG only:

    detect_max_side/upsample   smallest face found   time
    1600 / 1                   ~75 px                0.7 s
    2000 / 1                   ~60 px                1.4 s
    2400 / 1 (default)         ~50 px                1.8 s
    4000 / 0                   ~60 px                1.1 s
    3200 / 1                   ~40 px                3.4 s

(Faces are "px" of box width; "50 px" faces were all found on two synthetic
4000x3000 photos of 20 LFW faces each, 1600/1 missed the four of 50-60 px.)

Encoding costs ~80 ms per face on one core (dlib ResNet), so a crowded photo
spends as long encoding as detecting. Selfies are detected on a 1024 px copy
first (a selfie face is large) and only retried at ``detect_max_side``.

``encoding_model`` "large" aligns faces with 68 landmarks, "small" with 5
(face_recognition's default). On 595 LFW photos "large" matched 85% of
same-person pairs at 0.5 against 82% for "small", at the same false-match
rate. The two give encodings ~0.1 apart, so photos and selfies must be
encoded with the same model: changing it means re-indexing.

Models load lazily on first use; dlib models are not thread-safe, so every
model call in one engine holds ``self._lock``. For parallel work use one
engine per process (``phopy.faces.pool``).
"""
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phopy.errors import NoFaceFound
from phopy.faces.device import resolve_model
from phopy.faces.images import decode_image, downscale, image_size, read_bytes, sniff_format
from phopy.faces.settings import EngineSettings

log = logging.getLogger(__name__)

SELFIE_DETECT_MAX_SIDE = 1024
# Photos whose longest side is at least twice this are encoded from a copy
# decoded at 1/2 (or less) in draft mode, to bound memory; faces there are big.
ENCODE_MAX_SIDE = 4096

MODEL_FILES = {
    "cnn": "mmod_human_face_detector.dat",
    "large": "shape_predictor_68_face_landmarks.dat",
    "small": "shape_predictor_5_face_landmarks.dat",
    "encoder": "dlib_face_recognition_resnet_model_v1.dat",
}


@dataclass
class DetectedFace:
    """One face: box (top, right, bottom, left) in full-size oriented pixels, 128-d encoding."""

    box: tuple[int, int, int, int]
    encoding: np.ndarray = field(repr=False)

    @property
    def area(self):
        """Return the box area in pixels."""
        top, right, bottom, left = self.box
        return max(0, bottom - top) * max(0, right - left)


@dataclass
class PhotoAnalysis:
    """What the engine found in a photo: its oriented size and its faces."""

    width: int
    height: int
    faces: list[DetectedFace]


class FaceEngine:
    """Detects and encodes faces; models load on first use; thread-safe via a lock."""

    def __init__(self, settings=None):
        self.settings = settings or EngineSettings()
        self._lock = threading.Lock()
        self._model = None
        self._models = None

    @property
    def model(self):
        """Return the detector that runs: "hog" or "cnn"."""
        if self._model is None:
            self._model = resolve_model(self.settings.model)
        return self._model

    def load(self):
        """Load the dlib models now (otherwise the first analysis does)."""
        with self._lock:
            self._load_locked()

    def analyze_photo(self, source):
        """Return the oriented size and every face (box + encoding) of an event photo."""
        return self._analyze(read_bytes(source), [self.settings.detect_max_side])

    def analyze_selfie(self, source):
        """Return the faces of a selfie, largest first (empty list when none)."""
        limit = self.settings.detect_max_side
        sides = [min(SELFIE_DETECT_MAX_SIDE, limit or SELFIE_DETECT_MAX_SIDE)]
        if not limit or limit > sides[0]:
            sides.append(limit)  # retry larger: the face may be small
        faces = self._analyze(read_bytes(source), sides).faces
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def selfie_face(self, source):
        """Return the largest face of a selfie, or raise NoFaceFound."""
        faces = self.analyze_selfie(source)
        if not faces:
            raise NoFaceFound("No face was found in the selfie; try a clear, front-facing photo.")
        return faces[0]

    def _analyze(self, data, detect_sides):
        started = time.perf_counter()
        width, height = image_size(data)
        longest = max(width, height)
        drafts = sniff_format(data) == "jpeg"
        encode_side = ENCODE_MAX_SIDE if longest >= 2 * ENCODE_MAX_SIDE else None
        full = None
        for side in detect_sides:
            side = min(side or longest, longest)
            if full is None and drafts and side <= longest // 2:
                detect_image, _ = decode_image(data, side)
            else:
                if full is None:
                    full, _ = decode_image(data, encode_side)
                detect_image = downscale(full, side)
            found = self._detect(detect_image)
            if found:
                break
        else:
            log.debug("%dx%d: no face (%.2f s)", width, height, time.perf_counter() - started)
            return PhotoAnalysis(width, height, [])
        detected = time.perf_counter()
        # detector boxes -> full-size oriented coordinates (floats)
        sx, sy = width / detect_image.width, height / detect_image.height
        boxes = [(t * sy, r * sx, b * sy, l * sx) for t, r, b, l in found]
        if full is None:
            full, _ = decode_image(data, encode_side)
        ex, ey = full.width / width, full.height / height
        encodings = self._encode(full, [(t * ey, r * ex, b * ey, l * ex) for t, r, b, l in boxes])
        faces = [DetectedFace(_clip(box, width, height), enc) for box, enc in zip(boxes, encodings)]
        log.debug("%dx%d: %d faces (detect on %dx%d %.2f s, encode %.2f s)", width, height,
                  len(faces), detect_image.width, detect_image.height, detected - started,
                  time.perf_counter() - detected)
        return PhotoAnalysis(width, height, faces)

    def _detect(self, image):
        """Return detector boxes (top, right, bottom, left) in image pixels."""
        pixels = np.asarray(image)
        with self._lock:
            models = self._load_locked()
            if self.model == "cnn":
                rects = [d.rect for d in models["detector"](pixels, self.settings.upsample)]
            else:
                rects = models["detector"](pixels, self.settings.upsample)
        return [(r.top(), r.right(), r.bottom(), r.left()) for r in rects]

    def _encode(self, image, boxes):
        """Return one float32 (128,) encoding per box (image pixel coordinates)."""
        import dlib

        pixels = np.asarray(image)
        with self._lock:
            models = self._load_locked()
            shapes = dlib.full_object_detections()
            for top, right, bottom, left in boxes:
                rect = dlib.rectangle(round(left), round(top), round(right), round(bottom))
                shapes.append(models["landmarks"](pixels, rect))
            vectors = models["encoder"].compute_face_descriptor(
                pixels, shapes, self.settings.num_jitters)
        return [np.asarray(vector, dtype=np.float32) for vector in vectors]

    def _load_locked(self):
        """Load the models once; the caller holds self._lock."""
        if self._models is not None:
            return self._models
        import dlib

        started = time.perf_counter()
        model = self.model
        if model == "cnn":
            detector = dlib.cnn_face_detection_model_v1(_model_file("cnn"))
        else:
            detector = dlib.get_frontal_face_detector()
        self._models = {
            "detector": detector,
            "landmarks": dlib.shape_predictor(_model_file(self.settings.encoding_model)),
            "encoder": dlib.face_recognition_model_v1(_model_file("encoder")),
        }
        log.info("face models loaded in %.1f s (%s detector, %s landmarks)",
                 time.perf_counter() - started, model, self.settings.encoding_model)
        return self._models


def _model_file(kind):
    """Return the path of a face_recognition_models data file (no pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILES[kind]
    if not path.is_file():
        raise RuntimeError(f"face model file missing: {path}")
    return str(path)


def _clip(box, width, height):
    """Round a float box and clip it to the image."""
    top, right, bottom, left = box
    return (max(0, round(top)), min(width, round(right)),
            min(height, round(bottom)), max(0, round(left)))
