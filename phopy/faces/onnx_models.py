"""YuNet (detector, OpenCV) and MobileFaceNet (encoder, onnxruntime).

YuNet gives a box and five keypoints per face (eyes, nose tip, mouth corners,
in the order of the ArcFace reference points). MobileFaceNet takes a 112x112
BGR crop aligned on those five points by a similarity transform, scaled as
(x - 127.5) / 128, and gives 512 values; they are L2-normalised here so that
faces compare by cosine (a dot product). Weights come from
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
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
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
    """Return the 112x112 crop whose five keypoints best match the ArcFace template."""
    import cv2

    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(points, dtype=np.float32),
                                            ARCFACE_POINTS, method=cv2.LMEDS)
    if matrix is None:  # degenerate keypoints: fall back to the exact least squares
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
