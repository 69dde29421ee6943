"""The OCR client: RapidOCR on onnxruntime, loaded on first use, one per process.

RapidOCR (Apache-2.0, ``rapidocr`` on PyPI) ships its PP-OCR detection,
recognition and orientation models as ONNX files inside its wheel
(``rapidocr/models/``): nothing is downloaded, at install or at run time.
Nothing here is imported while bib reading is off, and the models load at the
first photo read, not at import. RapidOCR's errors become Phopy's.
"""
import logging
import threading

import cv2
import numpy as np

from phopy.errors import PhopyError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_readers = {}
REC_MIN_WIDTH = 64  # the recognizer's narrowest input (RapidOCR pads to 320 by default)


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
    """Text in images: ``detect`` finds text boxes, ``recognize`` reads crops of them
    (``phopy.bibs.reading`` decides where to look and at what size)."""

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
                "Det.limit_type": "max", "Det.limit_side_len": 2000,
                # each crop at its own width (a batch is padded to its widest)
                "Rec.rec_img_shape": [3, 48, REC_MIN_WIDTH], "Rec.rec_batch_num": 1,
                "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,  # many input sizes
            })
            for load in (self._engine._load_det_model, self._engine._load_rec_model):
                session = load().session
                if int(threads) > 1:  # one thread has no pool of threads to spin
                    _share_cores(session, int(threads))
        except Exception as exc:
            raise OcrUnavailable(f"the OCR models could not be loaded: {exc}") from None
        self._lock = threading.Lock()  # one inference at a time per reader
        log.info("OCR ready (RapidOCR, %d threads)", threads)

    def detect(self, image, with_map=False):
        """Text boxes in an RGB image, as it is (no resizing but to a multiple of 32):
        [(4x2 float32 corner points, score)]; with ``with_map``, also the detector's
        text probability map (float32, the image's size rounded to multiples of 32)."""
        array = _rgb(image)
        if array is None:
            return ([], None) if with_map else []
        height, width = array.shape[:2]
        size = detect_size(width, height)
        if size != (width, height):
            array = cv2.resize(array, size)
        # RapidOCR's own preprocessing in one pass: BGR, (v / 255 - 0.5) / 0.5, NCHW
        tensor = cv2.dnn.blobFromImage(array, 1 / 127.5, mean=(127.5, 127.5, 127.5),
                                       swapRB=True)
        with self._lock:
            try:
                model = self._engine._load_det_model()
                pred = np.asarray(model.session(tensor))
                boxes, scores = model.postprocess_op(pred, (height, width))
            except Exception as exc:
                raise PhopyError(f"OCR failed: {exc}") from None
        found = [(np.asarray(boxes[i], np.float32).reshape(4, 2), float(scores[i]))
                 for i in _reading_order(boxes)]
        return (found, pred[0, 0]) if with_map else found

    def recognize(self, crops):
        """The text and score of each RGB crop (one text line each), batched."""
        arrays = [a[:, :, ::-1].copy() for a in (_rgb(c, 2) for c in crops) if a is not None]
        if len(arrays) != len(crops):
            raise PhopyError("OCR failed: an empty text crop")
        if not arrays:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput
        with self._lock:
            try:
                out = self._engine._load_rec_model()(TextRecInput(img=arrays))
            except Exception as exc:
                raise PhopyError(f"OCR failed: {exc}") from None
        return [(str(t), float(s)) for t, s in zip(out.txts, out.scores)]


def detect_size(width, height):
    """The size ``detect`` runs an image of this size at: multiples of 32 (the
    detector's stride), at least 32."""
    return (max(32, int(round(width / 32)) * 32), max(32, int(round(height / 32)) * 32))


def _reading_order(boxes, line_gap=10):
    """Box indices top to bottom, then left to right on each line (RapidOCR's order:
    a new line where the top-left corners' heights step by ``line_gap`` or more)."""
    if len(boxes) == 0:
        return []
    tops = np.asarray([b[0][1] for b in boxes], np.float32)
    by_top = np.argsort(tops, kind="stable")
    lines = np.concatenate([[0], np.cumsum(np.diff(tops[by_top]) >= line_gap)])
    lefts = np.asarray([boxes[i][0][0] for i in by_top], np.float32)
    return [int(by_top[j]) for j in np.lexsort((lefts, lines))]


def _share_cores(infer, threads):
    """Reopen a model's onnxruntime session for a machine whose cores are shared (with
    face indexing, the web workers): threads that sleep when idle instead of spinning
    (RapidOCR's settings have no such option). Twice as fast on a loaded machine."""
    import onnxruntime as ort
    path = getattr(infer.session, "_model_path", None)
    if not path:  # pragma: no cover - onnxruntime keeps the path it was opened with
        return
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = True
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    infer.session = ort.InferenceSession(str(path), options,
                                         providers=["CPUExecutionProvider"])


def _rgb(image, smallest=8):
    """An HxWx3 uint8 array of a PIL image or array; None when smaller than ``smallest``."""
    array = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    if array.ndim != 3 or min(array.shape[:2]) < smallest:
        return None
    return array
