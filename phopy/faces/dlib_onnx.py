"""dlib's face encoder (ResNet, 128-d) rebuilt as an ONNX graph for onnxruntime.

The ``dlib-bin`` wheel is built without BLAS: its ResNet takes ~0.1 s of CPU a
face, the largest part of analysing a selfie. The network is fixed and small
(29 convolutions on a 150x150 chip, see ``anet_type`` in dlib's
``tools/python/src/face_recognition.cpp``), so the weights are read from the very
file dlib loads (``dlib_face_recognition_resnet_model_v1.dat`` from the
``face_recognition_models`` package) and the same layers are written as ONNX:
each batch-norm ("affine") layer is folded into the convolution before it, and
dlib's residual sums of differently sized tensors (it pads the smaller one with
zeros at the end) become Pad + Add. onnxruntime runs it ~6x faster and gives
the same 128 values (differences ~1e-6; ``tests/faces/test_dlib_onnx.py``
compares both on real faces), so the stored encodings stay dlib's: nothing is
re-indexed. The chip is cut by dlib itself (``dlib.get_face_chip``), exactly as
``compute_face_descriptor`` cuts it.

The graph is built in memory when the engine loads (~0.3 s, nothing written to
disk). Only the layer kinds that file holds are understood; anything else
raises ``DlibModelError`` and the engine keeps using dlib's own encoder.

dlib's serialisation (``dlib/serialize.h``, ``dlib/dnn/core.h``): integers are a
control byte (size | 0x80 when negative) then little-endian bytes; floats are
two integers (mantissa, exponent); bools one character '0'/'1'; strings a
length then bytes; tensors version 2, four dimensions, then raw float32.
"""
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CHIP_SIZE = 150
CHIP_PADDING = 0.25
INPUT_MARKER = b"\x01\x15input_rgb_image_sized"


class DlibModelError(RuntimeError):
    """The dlib model file holds something this converter does not understand."""


class _Reader:
    """Reads dlib's serialised primitives from bytes."""

    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def integer(self):
        head = self.data[self.pos]
        size = head & 0x0F
        if not 1 <= size <= 8:
            raise DlibModelError(f"bad integer at byte {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def floating(self):
        mantissa = self.integer()
        return mantissa * 2.0 ** self.integer()

    def boolean(self):
        char = self.data[self.pos:self.pos + 1]
        if char not in (b"0", b"1"):
            raise DlibModelError(f"bad bool at byte {self.pos}")
        self.pos += 1
        return char == b"1"

    def string(self):
        size = self.integer()
        text = self.data[self.pos:self.pos + size].decode("ascii", "replace")
        self.pos += size
        return text

    def tensor(self):
        if self.integer() != 2:
            raise DlibModelError(f"bad tensor version at byte {self.pos}")
        shape = [self.integer() for _ in range(4)]
        count = int(np.prod(shape))
        array = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return array.astype(np.float32).reshape(shape)

    def alias(self):
        if self.integer() != 1:
            raise DlibModelError(f"bad alias tensor at byte {self.pos}")
        return [self.integer() for _ in range(4)]


def read_layers(data):
    """Return (input channel means, [(kind, details)] from the input outwards)."""
    reader = _Reader(data)
    if reader.integer() != 1 or reader.string() != "loss_metric_2":
        raise DlibModelError("not a dlib metric-learning network")
    at = data.find(INPUT_MARKER)
    if at < 0:
        raise DlibModelError("no input_rgb_image_sized layer")
    input_layer_version = data[at - 1]  # the add_layer over the input layer
    reader.pos = at
    reader.string()
    means = [reader.floating() for _ in range(3)]
    if (reader.integer(), reader.integer()) != (CHIP_SIZE, CHIP_SIZE):
        raise DlibModelError("the network does not take 150x150 chips")
    layers = []
    while reader.pos < len(data):
        kind = reader.string()
        if kind == "con_4":
            params = reader.tensor().reshape(-1)
            filters, rows, cols, stride, _, pad, _ = (reader.integer() for _ in range(7))
            shape = reader.alias()
            reader.alias()
            for _ in range(4):
                reader.floating()
            count = int(np.prod(shape))
            layers.append(("con", {"w": params[:count].reshape(shape),
                                   "b": params[count:count + filters],
                                   "stride": stride, "pad": pad}))
        elif kind == "affine_":
            params = reader.tensor().reshape(-1)
            channels = int(np.prod(reader.alias()))
            reader.alias()
            if reader.integer() != 0:
                raise DlibModelError("affine layer not in convolution mode")
            layers.append(("affine", {"gamma": params[:channels],
                                      "beta": params[channels:2 * channels]}))
        elif kind == "relu_":
            layers.append(("relu", {}))
        elif kind in ("max_pool_2", "avg_pool_2"):
            rows, _, stride, _, pad, _ = (reader.integer() for _ in range(6))
            layers.append((kind[:-2], {"k": rows, "stride": stride, "pad": pad}))
        elif kind == "add_prev_":
            layers.append(("add_prev", {}))
        elif kind == "fc_2":
            outputs, inputs = reader.integer(), reader.integer()
            params = reader.tensor().reshape(-1)
            reader.alias()
            reader.alias()
            if reader.integer() != 1:
                raise DlibModelError("fully connected layer with a bias")
            for _ in range(4):
                reader.floating()
            layers.append(("fc", {"w": params[:inputs * outputs].reshape(inputs, outputs)}))
        else:
            raise DlibModelError(f"unknown dlib layer {kind!r}")
        for _ in range(3):  # add_layer's trailer: flags, then gradients and caches
            reader.boolean()
        for _ in range(3):
            reader.tensor()
        if len(layers) == 1 and input_layer_version >= 3:
            reader.integer()  # sample expansion factor
    return means, layers


class _Graph:
    """Accumulates ONNX nodes and weights while tracking the (C, H, W) shape."""

    def __init__(self):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.weights, self._n = [], [], 0

    def name(self, prefix):
        self._n += 1
        return f"{prefix}_{self._n}"

    def weight(self, array, dtype=np.float32):
        name = self.name("w")
        self.weights.append(self.numpy_helper.from_array(
            np.ascontiguousarray(array, dtype=dtype), name))
        return name

    def node(self, op, inputs, **attrs):
        out = self.name(op.lower())
        self.nodes.append(self.helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, x, shape, con, affine):
        w = con["w"] * affine["gamma"][:, None, None, None]
        b = con["b"] * affine["gamma"] + affine["beta"]
        if w.shape[1] != shape[0]:
            raise DlibModelError("convolution input channels do not match")
        pad, stride, k = con["pad"], con["stride"], w.shape[2]
        out = self.node("Conv", [x, self.weight(w), self.weight(b)], kernel_shape=[k, k],
                        strides=[stride, stride], pads=[pad] * 4)
        side = (shape[1] + 2 * pad - k) // stride + 1
        return out, [w.shape[0], side, side]

    def pool(self, op, x, shape, pool):
        k, stride, pad = pool["k"], pool["stride"], pool["pad"]
        out = self.node(op, [x], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)
        side = (shape[1] + 2 * pad - k) // stride + 1
        return out, [shape[0], side, side]

    def pad_to(self, x, shape, target):
        """Zero-pad at the end of each axis up to ``target`` (dlib's add of unequal sizes)."""
        extra = [t - s for t, s in zip(target, shape)]
        if not any(extra):
            return x
        pads = self.weight([0, 0, 0, 0, 0] + extra, dtype=np.int64)  # begins, then ends
        return self.node("Pad", [x, pads])


def build_model(layers):
    """The ONNX ModelProto for dlib's ResNet: input "chip" (N, 3, 150, 150) float32 of
    (pixel - channel mean) / 256 in RGB planes, output "descriptor" (N, 128)."""
    from onnx import TensorProto, helper

    graph = _Graph()
    queue = list(layers)

    def take(kind):
        if not queue or queue[0][0] != kind:
            raise DlibModelError(f"expected a {kind} layer, found {queue[0][0] if queue else 'end'}")
        return queue.pop(0)[1]

    x, shape = "chip", [3, CHIP_SIZE, CHIP_SIZE]
    x, shape = graph.conv(x, shape, take("con"), take("affine"))
    take("relu")
    x = graph.node("Relu", [x])
    x, shape = graph.pool("MaxPool", x, shape, take("max_pool"))
    while queue and queue[0][0] == "con":  # residual blocks
        block_in, in_shape = x, shape
        y, y_shape = graph.conv(x, shape, take("con"), take("affine"))
        take("relu")
        y = graph.node("Relu", [y])
        y, y_shape = graph.conv(y, y_shape, take("con"), take("affine"))
        skip, skip_shape = block_in, in_shape
        if queue and queue[0][0] == "avg_pool" and queue[0][1]["k"]:
            skip, skip_shape = graph.pool("AveragePool", skip, skip_shape, take("avg_pool"))
        take("add_prev")
        take("relu")
        target = [max(a, b) for a, b in zip(skip_shape, y_shape)]
        x = graph.node("Add", [graph.pad_to(skip, skip_shape, target),
                               graph.pad_to(y, y_shape, target)])
        x, shape = graph.node("Relu", [x]), target
    if take("avg_pool")["k"] != 0:
        raise DlibModelError("expected the global average pool")
    x = graph.node("GlobalAveragePool", [x])
    x = graph.node("Flatten", [x], axis=1)
    fc = take("fc")["w"]
    if fc.shape[0] != shape[0] or queue:
        raise DlibModelError("unexpected layers after the residual blocks")
    graph.node("MatMul", [x, graph.weight(fc)])
    graph.nodes[-1].output[0] = "descriptor"
    model = helper.make_model(
        helper.make_graph(
            graph.nodes, "dlib_face_recognition_resnet_model_v1",
            [helper.make_tensor_value_info("chip", TensorProto.FLOAT,
                                           ["n", 3, CHIP_SIZE, CHIP_SIZE])],
            [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["n", fc.shape[1]])],
            graph.weights),
        opset_imports=[helper.make_opsetid("", 13)], producer_name="phopy")
    model.ir_version = 8
    return model


class DlibOnnxEncoder:
    """dlib's 128-d encoder on onnxruntime; chips are cut by dlib itself."""

    size = 128

    def __init__(self, source):
        """Convert dlib's model file ``source`` (in memory: ~0.3 s) and load it."""
        import onnxruntime as ort
        from phopy.faces.onnx_models import onnx_providers

        means, layers = read_layers(Path(source).read_bytes())
        graph = build_model(layers).SerializeToString()

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(graph, sess_options=options,
                                             providers=onnx_providers())
        self._means = np.array(means, dtype=np.float32)

    def encode(self, rgb, shapes):
        """One float32 (128,) vector per dlib full_object_detection in ``rgb``."""
        import dlib

        if not len(shapes):
            return []
        chips = dlib.get_face_chips(rgb, shapes, size=CHIP_SIZE, padding=CHIP_PADDING)
        batch = (np.stack([np.asarray(c, dtype=np.float32) for c in chips])
                 - self._means) / 256.0
        batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
        out = self._session.run(None, {"chip": batch})[0]
        return [np.asarray(row, dtype=np.float32) for row in out]
