"""YuNet (detector, OpenCV), MobileFaceNet and SFace (encoders), on onnxruntime.

YuNet gives a box and five keypoints per face (eyes, nose tip, mouth corners,
in the order of the ArcFace reference points). MobileFaceNet takes a 112x112
BGR crop aligned on those five points by a least-squares similarity transform
(as insightface's ``norm_crop``), scaled as (x - 127.5) / 128, and gives 512
values; they are L2-normalised here so that faces compare by cosine (a dot
product). SFace (OpenCV's model zoo, ``SFaceEncoder``) takes the same crop in
RGB, raw 0-255 (its graph normalises), and gives 128 values, normalised too.

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
    """YuNet on onnxruntime, decoded as OpenCV's ``cv2.FaceDetectorYN`` decodes it.

    The file's input is fixed at 640x640; its graph is size-agnostic (reshapes to
    -1, resizes by scale), so the input and outputs are made dynamic in memory and
    a whole photo runs in one pass, ~2x faster than OpenCV's DNN module on one CPU
    thread (0.22 s against 0.48-0.56 s at 2400x1800, the first photo of a new size
    excepted), and on CUDA where onnxruntime-gpu has it. onnxruntime's memory arena
    keeps what the largest size seen needs (bounded by FACE_DETECT_MAX_SIDE). The
    decoding (padding to 32, scores, boxes, keypoints, NMS) follows OpenCV's
    ``face_detect.cpp``; ``tests/faces/test_onnx_models.py`` checks both give the
    same faces.
    """

    STRIDES = (8, 16, 32)

    def __init__(self, path):
        import cv2
        import onnx
        import onnxruntime as ort

        cv2.setNumThreads(1)  # one face process per core already
        model = onnx.load(str(path))
        dims = model.graph.input[0].type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
        for output in model.graph.output:
            output.type.tensor_type.shape.dim[1].dim_param = "anchors"
        del model.graph.value_info[:]  # shapes inferred for 640x640 only
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Photos come in many sizes: no memory plan kept per size (the arena stays
        # bounded by the largest size; with plans, RSS kept growing with new sizes).
        options.enable_mem_pattern = False
        self._session = ort.InferenceSession(model.SerializeToString(), sess_options=options,
                                             providers=onnx_providers())
        self._input = self._session.get_inputs()[0].name
        self._outputs = [f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps")
                         for stride in self.STRIDES]

    def detect(self, rgb):
        """Return [(box (top, right, bottom, left), keypoints (5, 2))] in ``rgb``'s pixels."""
        import cv2

        height, width = rgb.shape[:2]
        pad_h, pad_w = -(-height // 32) * 32, -(-width // 32) * 32
        padded = cv2.copyMakeBorder(np.ascontiguousarray(rgb), 0, pad_h - height,
                                    0, pad_w - width, cv2.BORDER_CONSTANT, value=0)
        blob = cv2.dnn.blobFromImage(padded, swapRB=True)  # float BGR planes, as YuNet wants
        found = dict(zip(self._outputs, self._session.run(self._outputs, {self._input: blob})))
        boxes, scores, points = [], [], []
        for stride in self.STRIDES:
            cls, obj = found[f"cls_{stride}"][0, :, 0], found[f"obj_{stride}"][0, :, 0]
            score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
            keep = np.flatnonzero(score >= YUNET_SCORE)
            if not len(keep):
                continue
            row, col = np.divmod(keep, pad_w // stride)
            cell = np.stack([col, row], axis=1).astype(np.float32)
            box = found[f"bbox_{stride}"][0, keep]
            size = np.exp(box[:, 2:4]) * stride
            corner = (cell + box[:, :2]) * stride - size / 2
            boxes.append(np.concatenate([corner, size], axis=1))
            scores.append(score[keep])
            points.append((found[f"kps_{stride}"][0, keep].reshape(-1, 5, 2)
                           + cell[:, None, :]) * stride)
        if not boxes:
            return []
        boxes, scores, points = (np.concatenate(v) for v in (boxes, scores, points))
        kept = cv2.dnn.NMSBoxes(np.trunc(boxes).astype(int).tolist(), scores.tolist(),
                                YUNET_SCORE, YUNET_NMS, 1.0, YUNET_TOP_K) if len(boxes) > 1 else [0]
        faces = []
        for i in np.asarray(kept, dtype=int).reshape(-1):
            x, y, w, h = (float(v) for v in boxes[i])
            faces.append(((y, x + w, y + h, x), points[i].astype(np.float32)))
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

        options = session_options()
        # The file holds denormal weights: flushing them to zero is ~10x faster on CPUs.
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
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


class SFaceEncoder:
    """SFace on onnxruntime: aligned 112x112 RGB crops to unit 128-d vectors.

    The pinned file is OpenCV's block-quantised int8 build. onnxruntime refuses
    it as shipped (it lists the float weights it replaced as graph inputs), so
    ``fold_sface`` drops those and folds the int8 weights to float32 once, at
    load: the same outputs to ~2e-6, and ~31 ms a face on one thread instead of
    ~57 ms for the quantised graph. The session is built once per file and process
    (``sface_session``) and shared by every engine there.
    """

    size = 128

    def __init__(self, path):
        self._session = sface_session(str(path))
        self._input = self._session.get_inputs()[0].name

    def encode(self, rgb, keypoints):
        """Return one float32 (128,) unit vector per face's (5, 2) keypoints in ``rgb``."""
        vectors = []
        for points in keypoints:
            crop = align_face(rgb, points)  # RGB, 0-255: the graph normalises
            blob = np.ascontiguousarray(crop.astype(np.float32).transpose(2, 0, 1)[np.newaxis])
            vector = self._session.run(None, {self._input: blob})[0].reshape(-1)
            vectors.append(normalize(vector))
        return vectors


@lru_cache(maxsize=2)
def sface_session(path):
    """The onnxruntime session of SFace's folded graph, built once per file here."""
    import onnxruntime as ort

    session = ort.InferenceSession(fold_sface(load_sface(path)).SerializeToString(),
                                   sess_options=session_options(),
                                   providers=onnx_providers())
    log.info("SFace on %s", session.get_providers()[0])
    return session


def session_options():
    """One-thread onnxruntime options, as every encoder here uses (one face process a core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


def load_sface(path):
    """SFace's ONNX graph without the stale inputs that make onnxruntime refuse it."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    constants = {init.name for init in graph.initializer}
    used = {name for node in graph.node for name in node.input}
    keep = [i for i in graph.input if i.name not in constants and i.name in used]
    del graph.input[:]
    graph.input.extend(keep)
    return model


def fold_sface(model):
    """Fold the graph's constant DequantizeLinear (block-quantised) and Reshape nodes
    into float32 weights; return the model, changed in place."""
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    nodes = []
    for node in graph.node:
        constant = all(name in values for name in node.input)
        if node.op_type == "DequantizeLinear" and constant:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            values[node.output[0]] = _dequantize(*(values[n] for n in node.input),
                                                 attrs.get("axis", 1), attrs.get("block_size", 0))
        elif node.op_type == "Reshape" and constant:
            values[node.output[0]] = values[node.input[0]].reshape(values[node.input[1]])
        else:
            nodes.append(node)
    used = {name for node in nodes for name in node.input} | {o.name for o in graph.output}
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(numpy_helper.from_array(value, name)
                             for name, value in values.items() if name in used)
    del graph.value_info[:]
    return model


def _dequantize(quantized, scale, zero_point, axis, block_size):
    """(x - zero_point) * scale, the scale and zero point shared by blocks of
    ``block_size`` along ``axis`` (ONNX DequantizeLinear, opset 21)."""
    if block_size and np.ndim(scale):
        count = quantized.shape[axis]
        scale = np.repeat(scale, block_size, axis=axis).take(range(count), axis=axis)
        zero_point = np.repeat(zero_point, block_size, axis=axis).take(range(count), axis=axis)
    elif np.ndim(scale) == 1 and quantized.ndim > 1:
        shape = [1] * quantized.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return ((quantized.astype(np.float32) - zero_point.astype(np.float32))
            * scale.astype(np.float32)).astype(np.float32)
