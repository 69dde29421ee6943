"""The OCR client: RapidOCR on onnxruntime, loaded on first use, one per process.

RapidOCR (Apache-2.0, ``rapidocr`` on PyPI) ships its PP-OCR detection,
recognition and orientation models as ONNX files inside its wheel
(``rapidocr/models/``): nothing is downloaded, at install or at run time.
Nothing here is imported while bib reading is off, and the models load at the
first photo read, not at import. RapidOCR's errors become Phopy's.
"""
import logging
import threading

import numpy as np

from phopy.errors import PhopyError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_readers = {}


class OcrUnavailable(PhopyError):
    """The OCR library is missing or its models cannot be loaded."""

    status_code = 503
    code = "ocr_unavailable"


def get_reader(threads=2):
    """The process's OCR reader (made at the first call; later calls share it)."""
    with _lock:
        reader = _readers.get(threads)
        if reader is None:
            reader = _readers[threads] = TextReader(threads)
        return reader


class TextReader:
    """Text lines in an image: ``read(rgb_array)`` -> [(text, score, (l, t, r, b))]."""

    def __init__(self, threads=2):
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - requirements install it
            raise OcrUnavailable(f"bib reading needs the rapidocr package: {exc}") from None
        try:
            self._engine = RapidOCR(params={
                "Global.log_level": "error",
                "Global.use_cls": False,  # bibs are upright (±15°): no 180° classifier
                # never enlarge: the callers hand over crops and reduced copies already
                "Det.limit_type": "max", "Det.limit_side_len": 1280,
                "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            })
        except Exception as exc:
            raise OcrUnavailable(f"the OCR models could not be loaded: {exc}") from None
        self._lock = threading.Lock()  # one inference at a time per reader
        log.info("OCR ready (RapidOCR, %d threads)", threads)

    def read(self, image):
        """Text lines found in an RGB image (PIL image or HxWx3 uint8 array)."""
        array = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
        if array.ndim != 3 or min(array.shape[:2]) < 8:
            return []
        bgr = array[:, :, ::-1].copy()  # RapidOCR works on OpenCV's BGR order
        with self._lock:
            try:
                result = self._engine(bgr)
            except Exception as exc:
                raise PhopyError(f"OCR failed: {exc}") from None
        if result is None or getattr(result, "txts", None) is None:
            return []
        lines = []
        for text, score, box in zip(result.txts, result.scores, result.boxes):
            points = np.asarray(box, dtype=np.float32).reshape(-1, 2)
            lines.append((str(text), float(score),
                          (float(points[:, 0].min()), float(points[:, 1].min()),
                           float(points[:, 0].max()), float(points[:, 1].max()))))
        return lines
