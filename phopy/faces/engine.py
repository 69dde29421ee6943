"""Find and encode the faces in one photo or selfie with dlib.

Pipeline for an event photo: read the oriented size from the header, decode a
detection copy, run the detector there, scale the boxes back to the
full-resolution oriented image, and only when faces were found decode the full
image and encode each face from it (dlib cuts a 150 px aligned chip per face,
so the cost per face does not grow with the photo).

Detection size is the main cost/recall trade-off. dlib's HOG detector finds
faces down to about 60 px of the image it scans. The scanned image has
longest side ``min(longest, detect_max_side) * 2**upsample``; for HOG it is
made here in one bilinear resize of the grey full-resolution photo, not by
dlib's own upsampling of an already shrunk RGB copy: same scale, sharper input,
and one grey channel for the HOG features (HOG takes the strongest gradient of
the three anyway). On 4000x3000 photos the default scan (4800x3600) takes
~1.3 s of HOG on one core, against ~1.8 s for dlib's RGB upsampling of a 2400
px copy. Smallest face found in the original: about
``60 * longest_side / scanned_side``. Measured by ``python -m bench`` (16
photos, 67 faces of 50-300 px; see bench/RESULTS.md):

    detect_max_side/upsample   scanned side   faces of 50-75 px found
    2400 / 1 (default)         4800           all (67/67 overall, like the baseline)
    2000 / 1                   4000           88%
    1600 / 1                   3200           38%

HOG's cost is mostly computing the features (~0.7 s of the 1.3 s), so running
fewer of dlib's five face filters, or only some of the picture, buys little;
see bench/notes.md for what was tried.

dlib's encoder runs on onnxruntime (``phopy.faces.dlib_onnx``: the same network
and values, ~8 ms a face instead of dlib-bin's ~90 ms without BLAS);
``FACE_DLIB_RUNTIME=dlib`` keeps dlib's own. A selfie is decoded once at half
size, scanned quickly at 800 px without upsampling, looked at again on larger
copies (never the photo pipeline's 2400 px) only when that finds no face or
several, and only its largest face is encoded (~0.1 s of CPU for a 12 MP selfie,
from ~0.45 s; ~0.35 s for one with no face, from ~1.4 s).

``encoding_model`` "large" aligns faces with 68 landmarks, "small" with 5
(face_recognition's default). On 595 LFW photos "large" matched 85% of
same-person pairs at 0.5 against 82% for "small", at the same false-match
rate. The two give encodings ~0.1 apart, so photos and selfies must be
encoded with the same model: changing it means re-indexing.

Three engines share this pipeline (detect -> align -> encode), chosen by
``EngineSettings.engine``: "sface" (the default: YuNet boxes and keypoints, a
112x112 ArcFace-aligned RGB crop, 128-d unit vectors compared by cosine),
"mobilefacenet" (the same crop in BGR, 512-d, cosine) and "dlib" (128-d,
Euclidean; YuNet's boxes with dlib's own landmarks when YuNet's weights are
present, else HOG, or CNN when asked); see ``phopy.faces.onnx_models``. YuNet
(on onnxruntime) scans the detection copy as is (no upsampling): at the default
2400 px it finds faces down to ~24 px there, and looks again at those under 48 px
for the keypoints that align SFace's and MobileFaceNet's crops.
Each analysis carries the engine and model version that made its encodings,
stored with every face so vectors of different engines are never compared.

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
from PIL import Image

from phopy.errors import NoFaceFound
from phopy.faces.device import resolve_detector
from phopy.faces.images import decode_image, downscale, image_size, read_bytes, sniff_format
from phopy.faces.settings import EngineSettings

log = logging.getLogger(__name__)

SELFIE_DETECT_MAX_SIDE = 1024
# YuNet finds faces down to ~20 px of its input: a selfie's face is found at 640 px.
SELFIE_DETECT_MAX_SIDE_YUNET = 640
# Photos whose longest side is at least twice this are encoded from a copy
# decoded at 1/2 (or less) in draft mode, to bound memory; faces there are big.
ENCODE_MAX_SIDE = 4096
# MobileFaceNet encodes from the detection copy when every face there is this wide.
ENCODE_FROM_DETECTION_PX = 160
# A selfie at least this large is decoded once at half its size (libjpeg's draft
# scaling: half the cost of the full decode), and found and encoded there: its face
# is large. (Encoded from a 960 px copy instead, dlib's recall at 0.5 fell from
# 0.82 to 0.73 on 60 LFW selfies; from half size it is the same as from full size.)
SELFIE_HALVE_FROM = 2000
# A selfie is first scanned by HOG at this size without upsampling (faces of 80 px
# and up there, a tenth of a phone selfie's height): HOG's cost grows with pixels.
SELFIE_QUICK_SIDE = 800
# ...and a group selfie again at this size (faces of 80 px there), for its count.
SELFIE_GROUP_SIDE = 1200

MODEL_FILES = {
    "cnn": "mmod_human_face_detector.dat",
    "large": "shape_predictor_68_face_landmarks.dat",
    "small": "shape_predictor_5_face_landmarks.dat",
    "encoder": "dlib_face_recognition_resnet_model_v1.dat",
}
DLIB_MODEL_VERSION = "resnet_v1"
# How MobileFaceNet's crops are made, part of its model version: encodings made
# another way are ~0.02-0.1 apart, so an index made before is re-indexed.
# "a2": least-squares alignment, small faces' keypoints refined (onnx_models).
MOBILEFACENET_PIPELINE = "a2"
# The same for each engine that encodes YuNet-aligned crops (SFace: RGB, 0-255, folded graph).
YUNET_PIPELINES = {"mobilefacenet": MOBILEFACENET_PIPELINE, "sface": "a2"}


def engine_key(settings):
    """Return (engine, model version) that identifies the encodings ``settings`` make."""
    if settings.engine in YUNET_PIPELINES:
        from phopy.faces.models import MODELS
        name = settings.engine
        return name, f"{MODELS[name].version}/{YUNET_PIPELINES[name]}"
    return "dlib", DLIB_MODEL_VERSION


@dataclass(frozen=True)
class _Pass:
    """One detection attempt: longest side scanned, upsampling, and whether one
    face found settles it (several faces: look again at the next pass)."""

    side: int
    upsample: int
    settles_with_one: bool = False


@dataclass
class DetectedFace:
    """One face: box (top, right, bottom, left) in full-size oriented pixels and its
    encoding (None for a selfie's other faces, see ``FaceEngine.analyze_selfie``)."""

    box: tuple[int, int, int, int]
    encoding: np.ndarray = field(repr=False)

    @property
    def area(self):
        """Return the box area in pixels."""
        return _area(self.box)


@dataclass
class PhotoAnalysis:
    """What the engine found in a photo: its oriented size, its faces, what encoded them."""

    width: int
    height: int
    faces: list[DetectedFace]
    engine: str = "dlib"
    model_version: str = DLIB_MODEL_VERSION


class FaceEngine:
    """Detects and encodes faces; models load on first use; thread-safe via a lock."""

    def __init__(self, settings=None):
        self.settings = settings or EngineSettings()
        self._lock = threading.Lock()
        self._model = None
        self._models = None

    @property
    def model(self):
        """Return the detector that runs: "hog", "cnn" or "yunet"."""
        if self._model is None:
            model, fallback = resolve_detector(self.settings)
            if fallback:
                log.warning("%s", fallback)
            self._model = model
        return self._model

    @property
    def key(self):
        """(engine, model version) of the encodings this engine makes."""
        return engine_key(self.settings)

    def load(self):
        """Load the dlib models now (otherwise the first analysis does)."""
        with self._lock:
            self._load_locked()

    def analyze_photo(self, source):
        """Return the oriented size and every face (box + encoding) of an event photo."""
        passes = [_Pass(self.settings.detect_max_side, self.settings.upsample)]
        return self._analyze(read_bytes(source), passes)

    def analyze_selfie(self, source):
        """Return the faces of a selfie, largest first (empty list when none).

        Only the largest face carries an encoding (a search uses that one; the
        others are counted, and their boxes tell whether it is ambiguous): the
        others' ``encoding`` is None.
        """
        faces = self._analyze(read_bytes(source), self._selfie_passes(), largest_only=True).faces
        # the encoded face first, even where two boxes are exactly as large
        return sorted(faces, key=lambda face: (face.encoding is not None, face.area),
                      reverse=True)

    def selfie_face(self, source):
        """Return the largest face of a selfie, or raise NoFaceFound."""
        faces = self.analyze_selfie(source)
        if not faces:
            raise NoFaceFound("No face was found in the selfie; try a clear, front-facing photo.")
        return faces[0]

    def _selfie_passes(self):
        """Where to look for a selfie's face: small first (it is large), then larger."""
        limit, upsample = self.settings.detect_max_side, self.settings.upsample
        if self.model == "yunet":
            passes = [_Pass(SELFIE_DETECT_MAX_SIDE_YUNET, 0)]
        elif self.model == "hog":
            # One quick HOG scan of a small copy without upsampling finds a selfie's
            # face (80 px and up there) and settles the common case, one face.
            # Several (a group selfie may hide a smaller one) are counted again on
            # a larger copy, and none on a 1024 px copy upsampled once (faces of
            # ~40 px there, 4% of the photo's side). The search ends there: a photo
            # whose face is smaller is no selfie, and scanning it at the photo
            # pipeline's size cost ~1.4 s of CPU for every faceless upload.
            passes = [_Pass(SELFIE_QUICK_SIDE, 0, settles_with_one=True),
                      _Pass(SELFIE_GROUP_SIDE, 0), _Pass(SELFIE_DETECT_MAX_SIDE, upsample)]
            return [_Pass(min(p.side, limit or p.side), p.upsample, p.settles_with_one)
                    for p in passes]
        else:
            passes = [_Pass(SELFIE_DETECT_MAX_SIDE, upsample)]
        if limit:
            passes = [_Pass(min(p.side, limit), p.upsample, p.settles_with_one) for p in passes]
        if not limit or limit > passes[-1].side:
            passes.append(_Pass(limit, upsample))  # retry larger: the face may be small
        return passes

    def _analyze(self, data, passes, largest_only=False):
        started = time.perf_counter()
        width, height = image_size(data)
        longest = max(width, height)
        drafts = sniff_format(data) == "jpeg"
        full, best = None, None
        if largest_only:
            encode_side = -(-longest // 2) if longest >= SELFIE_HALVE_FROM else None
            if self.settings.engine == "dlib":  # found and encoded there (see above)
                full, _ = decode_image(data, encode_side)
        else:
            encode_side = ENCODE_MAX_SIDE if longest >= 2 * ENCODE_MAX_SIDE else None
        for step in passes:
            side = min(step.side or longest, longest)
            scanned = side * 2 ** step.upsample if self.model == "hog" else side
            if full is None and drafts and scanned <= longest // 2:
                detect_image, _ = decode_image(data, scanned)
            else:
                if full is None:
                    full, _ = decode_image(data, encode_side)
                detect_image = full
            found, detect_image = self._detect(detect_image, side, step.upsample)
            if found:
                best = found, detect_image
                if len(found) == 1 or not step.settles_with_one:
                    break
        if best is None:
            log.debug("%dx%d: no face (%.2f s)", width, height, time.perf_counter() - started)
            return PhotoAnalysis(width, height, [], *self.key)
        found, detect_image = best
        detected = time.perf_counter()
        # detector boxes -> full-size oriented coordinates (floats)
        sx, sy = width / detect_image.width, height / detect_image.height
        boxes = [(t * sy, r * sx, b * sy, l * sx) for (t, r, b, l), _ in found]
        clipped = [_clip(box, width, height) for box in boxes]
        chosen = range(len(found))
        seen = [r - l for (t, r, b, l), _ in found]  # face widths where the detector ran
        if largest_only:
            chosen = [max(chosen, key=lambda i: _area(clipped[i]))]
        if full is None and self._encodes_from_detection([found[i] for i in chosen]):
            # The encoder sees a small aligned crop: a face this large in the
            # detection copy loses nothing, and a selfie skips decoding its 12 MP.
            vectors = self._encode(detect_image, [found[i][0] for i in chosen],
                                   [found[i][1] for i in chosen], [seen[i] for i in chosen])
        else:
            if full is None:
                full, _ = decode_image(data, encode_side)
            ex, ey = full.width / width, full.height / height
            points = [None if found[i][1] is None else found[i][1] * np.float32([sx * ex, sy * ey])
                      for i in chosen]
            vectors = self._encode(full, [(t * ey, r * ex, b * ey, l * ex)
                                          for t, r, b, l in (boxes[i] for i in chosen)], points,
                                   [seen[i] for i in chosen])
        encodings = [None] * len(found)
        for i, vector in zip(chosen, vectors):
            encodings[i] = vector
        faces = [DetectedFace(box, enc) for box, enc in zip(clipped, encodings)]
        log.debug("%dx%d: %d faces (detect on %dx%d %.2f s, encode %.2f s)", width, height,
                  len(faces), detect_image.width, detect_image.height, detected - started,
                  time.perf_counter() - detected)
        return PhotoAnalysis(width, height, faces, *self.key)

    def _encodes_from_detection(self, found):
        """True when every face to encode is big enough in the detection copy for
        MobileFaceNet (dlib's encodings match better from more pixels, see
        SELFIE_HALVE_FROM)."""
        return self.settings.engine in YUNET_PIPELINES and all(
            r - l >= ENCODE_FROM_DETECTION_PX for (t, r, b, l), _ in found)

    def _detect(self, image, side, upsample):
        """Find faces at the scale ``side`` (longest side), upsampled ``upsample`` times.

        Returns ([(box, keypoints or None)], scanned image); boxes are (top,
        right, bottom, left) and keypoints (5, 2) x/y, in the scanned image's pixels.
        """
        if self.model == "yunet":
            # a box filter: as sharp as bilinear for YuNet, a third cheaper on 12 MP
            image = downscale(image, side, Image.Resampling.BOX)
            pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
            with self._lock:
                return self._load_locked()["yunet"].detect(pixels), image
        if self.model == "hog":
            # HOG sees one grey channel anyway (max gradient over RGB otherwise):
            # give it grey, already at the final scale, and let it not upsample.
            image = _resize_longest(image.convert("L"), side * 2 ** upsample)
            upsample = 0
        else:
            image = downscale(image, side)
        pixels = np.asarray(image)
        with self._lock:
            models = self._load_locked()
            if self.model == "cnn":
                rects = [d.rect for d in models["detector"](pixels, upsample)]
            else:
                rects = models["detector"](pixels, upsample)
        return [((r.top(), r.right(), r.bottom(), r.left()), None) for r in rects], image

    def _encode(self, image, boxes, points, seen):
        """Return one float32 encoding per face (box and keypoints in image pixels;
        ``seen``: each face's width where the detector found it)."""
        pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        with self._lock:
            models = self._load_locked()
            if self.settings.engine in YUNET_PIPELINES:
                from phopy.faces.onnx_models import REFINE_BELOW_PX
                yunet = models["yunet"]
                points = [yunet.refine(pixels, box, kp) if width < REFINE_BELOW_PX else kp
                          for box, kp, width in zip(boxes, points, seen)]
                return models["encoder_yunet"].encode(pixels, points)
            import dlib

            shapes = dlib.full_object_detections()
            for top, right, bottom, left in boxes:
                rect = dlib.rectangle(round(left), round(top), round(right), round(bottom))
                shapes.append(models["landmarks"](pixels, rect))
            if "encoder_onnx" in models:
                return models["encoder_onnx"].encode(pixels, shapes)
            vectors = models["encoder"].compute_face_descriptor(
                pixels, shapes, self.settings.num_jitters)
        return [np.asarray(vector, dtype=np.float32) for vector in vectors]

    def _onnx_encoder(self):
        """dlib's encoder on onnxruntime (the same values, ~10x faster), or None when
        FACE_DLIB_RUNTIME=dlib, jitters are asked for, or it cannot be built here."""
        if self.settings.dlib_runtime != "onnx" or self.settings.num_jitters != 1:
            return None
        from phopy.faces.dlib_onnx import DlibModelError, DlibOnnxEncoder
        try:
            return DlibOnnxEncoder(_model_file("encoder"))
        except (ImportError, DlibModelError) as exc:
            log.warning("dlib's encoder stays on dlib (%s); FACE_DLIB_RUNTIME=dlib hides this",
                        exc)
            return None

    def _load_locked(self):
        """Load the models once; the caller holds self._lock."""
        if self._models is not None:
            return self._models
        import dlib

        started = time.perf_counter()
        model = self.model
        from phopy.faces.models import default_dir, model_path

        models = {}
        directory = self.settings.model_dir or default_dir()
        if model == "yunet":
            from phopy.faces.onnx_models import YuNetDetector
            models["yunet"] = YuNetDetector(model_path("yunet", directory))
        elif model == "cnn":
            models["detector"] = dlib.cnn_face_detection_model_v1(_model_file("cnn"))
        else:
            models["detector"] = dlib.get_frontal_face_detector()
        if self.settings.engine in YUNET_PIPELINES:
            from phopy.faces.onnx_models import MobileFaceNetEncoder, SFaceEncoder
            encoder = {"mobilefacenet": MobileFaceNetEncoder, "sface": SFaceEncoder}
            models["encoder_yunet"] = encoder[self.settings.engine](
                model_path(self.settings.engine, directory))
        else:
            models["landmarks"] = dlib.shape_predictor(_model_file(self.settings.encoding_model))
            encoder = self._onnx_encoder()
            if encoder is not None:
                models["encoder_onnx"] = encoder
            else:
                models["encoder"] = dlib.face_recognition_model_v1(_model_file("encoder"))
        self._models = models
        log.info("face models loaded in %.1f s (%s engine, %s detector)",
                 time.perf_counter() - started, self.settings.engine, model)
        return self._models


def _area(box):
    """Area in pixels of a (top, right, bottom, left) box."""
    top, right, bottom, left = box
    return max(0, bottom - top) * max(0, right - left)


def _model_file(kind):
    """Return the path of a face_recognition_models data file (no pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILES[kind]
    if not path.is_file():
        raise RuntimeError(f"face model file missing: {path}")
    return str(path)


def _resize_longest(image, side):
    """Return image resized (up or down, bilinear) so its longest side is ``side``."""
    width, height = image.size
    if max(width, height) == side:
        return image
    scale = side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _clip(box, width, height):
    """Round a float box and clip it to the image."""
    top, right, bottom, left = box
    return (max(0, round(top)), min(width, round(right)),
            min(height, round(bottom)), max(0, round(left)))
