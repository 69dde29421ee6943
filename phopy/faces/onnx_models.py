"""YuNet (detector, OpenCV) and MobileFaceNet (encoder, onnxruntime).

YuNet gives a box and five keypoints per face (eyes, nose tip, mouth corners,
in the order of the ArcFace reference points). MobileFaceNet takes a 112x112
BGR crop aligned on those five points by a least-squares similarity transform
(as insightface's ``norm_crop``), scaled as (x - 127.5) / 128, and gives 512
values; they are L2-normalised here so that faces compare by cosine (a dot
product).

A face the detector saw small (under ``REFINE_BELOW_PX`` wide in its copy of
the photo) gets its keypoints again from a second YuNet pass over a crop where
it is that wide (``YuNetDetector.refine``, ~5 ms): at 30 px YuNet's points are
off by a pixel or two, a tenth of the eye distance, and the crop drifts. On
the benchmark's 50-65 px faces this brought the same person 0.05-0.09 closer
(cosine distance); the robust LMEDS fit used before could ignore a point and
tilt the crop (one 193 px face: 0.63 -> 0.55 from its selfie). Weights come from
``phopy.faces.models`` (pinned sha256). Neither object is thread-safe: the
engine calls them under its lock.
"""
import logging
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)

# The standard ArcFace 5-point template for a 112x112 crop.
ARCFACE_POINTS = np.array([
    [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
    [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)
CROP_SIZE = 112
YUNET_SCORE = 0.6
YUNET_NMS = 0.3
YUNET_TOP_K = 5000
# Keypoints of a face narrower than REFINE_BELOW_PX in the detection copy are found
# again on a crop scaled so that the face is REFINE_FACE_PX wide, with REFINE_MARGIN
# of its width around it. (Refining faces the detector saw at 48-120 px too made
# them match no better on the benchmark: YuNet's own points are good there.)
REFINE_BELOW_PX = 48
REFINE_FACE_PX = 120
REFINE_MARGIN = 0.9


class YuNetDetector:
    """cv2.FaceDetectorYN over one pinned ONNX file."""

    def __init__(self, path):
        import cv2

        cv2.setNumThreads(1)  # one face process per core already
        self._detector = cv2.FaceDetectorYN.create(
            str(path), "", (320, 320), YUNET_SCORE, YUNET_NMS, YUNET_TOP_K)

    def detect(self, rgb):
        """Return [(box (top, right, bottom, left), keypoints (5, 2))] in ``rgb``'s pixels."""
        height, width = rgb.shape[:2]
        import cv2

        bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
        self._detector.setInputSize((width, height))
        _, found = self._detector.detect(bgr)
        if found is None:
            return []
        faces = []
        for row in found:
            x, y, w, h = (float(v) for v in row[:4])
            points = np.asarray(row[4:14], dtype=np.float32).reshape(5, 2)
            faces.append(((y, x + w, y + h, x), points))
        return faces

    def refine(self, rgb, box, points):
        """Return the face's keypoints found again where it is ``REFINE_FACE_PX`` wide.

        ``box`` (top, right, bottom, left) and ``points`` (5, 2) are in ``rgb``'s
        pixels; the face YuNet finds nearest the old points' centre on the crop
        replaces them, and when there is none they are returned as they were.
        """
        import cv2

        top, right, bottom, left = box
        width = max(right - left, bottom - top, 1.0)
        cx, cy = np.asarray(points, dtype=np.float32).mean(axis=0)
        reach = width * (0.5 + REFINE_MARGIN)
        height_px, width_px = rgb.shape[:2]
        x0, y0 = max(int(cx - reach), 0), max(int(cy - reach), 0)
        x1, y1 = min(int(cx + reach) + 1, width_px), min(int(cy + reach) + 1, height_px)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return points
        scale = REFINE_FACE_PX / width
        size = (max(round((x1 - x0) * scale), 1), max(round((y1 - y0) * scale), 1))
        crop = cv2.resize(rgb[y0:y1, x0:x1], size,
                          interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
        found = self.detect(crop)
        if not found:
            return points
        sx, sy = (x1 - x0) / size[0], (y1 - y0) / size[1]
        mapped = [kp * np.float32([sx, sy]) + np.float32([x0, y0]) for _, kp in found]
        best = min(mapped, key=lambda kp: float(np.hypot(*(kp.mean(axis=0) - (cx, cy)))))
        # the same face: its centre moved less than a third of the face's width
        if np.hypot(*(best.mean(axis=0) - (cx, cy))) > width / 3:
            return points
        return best


def onnx_providers():
    """The onnxruntime providers to use: CUDA first when this build has it."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


@lru_cache(maxsize=1)
def onnx_device():
    """Return "cuda" when onnxruntime can use a GPU here, else "cpu" (for the banner)."""
    try:
        return "cuda" if "CUDAExecutionProvider" in onnx_providers() else "cpu"
    except ImportError:
        return "not installed"


class MobileFaceNetEncoder:
    """MobileFaceNet on onnxruntime: aligned 112x112 crops to unit 512-d vectors."""

    size = 512

    def __init__(self, path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        # The file holds denormal weights: flushing them to zero is ~10x faster on CPUs.
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), sess_options=options,
                                             providers=onnx_providers())
        self._input = self._session.get_inputs()[0].name
        log.info("MobileFaceNet on %s", self._session.get_providers()[0])

    def encode(self, rgb, keypoints):
        """Return one float32 (512,) unit vector per face's (5, 2) keypoints in ``rgb``."""
        vectors = []
        for points in keypoints:
            crop = align_face(rgb, points)[:, :, ::-1]  # RGB -> BGR
            blob = (crop.astype(np.float32) - 127.5) / 128.0
            blob = np.ascontiguousarray(blob.transpose(2, 0, 1)[np.newaxis])
            vector = self._session.run(None, {self._input: blob})[0].reshape(-1)
            vectors.append(normalize(vector))
        return vectors


def align_face(rgb, points):
    """Return the 112x112 crop whose five keypoints best match the ArcFace template
    (least squares over all five points)."""
    import cv2

    matrix = _similarity(np.asarray(points, dtype=np.float64), ARCFACE_POINTS)
    return cv2.warpAffine(rgb, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _similarity(source, target):
    """Least-squares similarity transform (2x3) taking source points to target points."""
    a = np.zeros((2 * len(source), 4))
    a[0::2] = np.column_stack([source[:, 0], -source[:, 1], np.ones(len(source)),
                               np.zeros(len(source))])
    a[1::2] = np.column_stack([source[:, 1], source[:, 0], np.zeros(len(source)),
                               np.ones(len(source))])
    (s, r, tx, ty), *_ = np.linalg.lstsq(a, np.asarray(target, float).reshape(-1), rcond=None)
    return np.array([[s, -r, tx], [r, s, ty]], dtype=np.float64)


def normalize(vector):
    """Return ``vector`` as float32 scaled to unit length (zero stays zero)."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
