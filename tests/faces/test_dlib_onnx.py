"""dlib's encoder rebuilt as ONNX gives dlib's own 128 values on real faces."""
import dlib
import numpy as np
import pytest

from phopy.faces import EngineSettings, FaceEngine
from phopy.faces.dlib_onnx import DlibModelError, DlibOnnxEncoder, build_model, read_layers
from phopy.faces.engine import _model_file
from phopy.faces.images import open_image

PHOTOS = ["face_recognition_examples/obama.jpg", "face_recognition_examples/biden.jpg",
          "face_recognition_examples/two_people.jpg", "group_photos/fr_kit_with_rose.jpg"]


@pytest.fixture(scope="module")
def dlib_models():
    return (dlib.get_frontal_face_detector(), dlib.shape_predictor(_model_file("large")),
            dlib.face_recognition_model_v1(_model_file("encoder")),
            DlibOnnxEncoder(_model_file("encoder")))


@pytest.mark.parametrize("name", PHOTOS)
def test_onnx_gives_dlibs_own_encodings(faces_dir, dlib_models, name):
    detector, landmarks, reference, onnx = dlib_models
    pixels = np.asarray(open_image(faces_dir / name))
    shapes = dlib.full_object_detections()
    for rect in detector(pixels, 1):
        shapes.append(landmarks(pixels, rect))
    assert len(shapes) >= 1
    expected = [np.asarray(v) for v in reference.compute_face_descriptor(pixels, shapes, 1)]
    got = onnx.encode(pixels, shapes)
    assert len(got) == len(expected)
    for a, b in zip(expected, got):
        assert b.shape == (128,)
        assert np.abs(a - b).max() < 1e-4


def test_the_engine_uses_onnx_unless_told_not_to(faces_dir):
    data = (faces_dir / "face_recognition_examples" / "obama.jpg").read_bytes()
    fast = FaceEngine(EngineSettings(engine="dlib", detector="hog"))
    slow = FaceEngine(EngineSettings(engine="dlib", detector="hog", dlib_runtime="dlib"))
    a, b = fast.analyze_photo(data).faces, slow.analyze_photo(data).faces
    assert "encoder_onnx" in fast._models and "encoder" not in fast._models
    assert "encoder" in slow._models and "encoder_onnx" not in slow._models
    assert [f.box for f in a] == [f.box for f in b]
    assert np.abs(a[0].encoding - b[0].encoding).max() < 1e-4
    assert a[0].encoding.dtype == b[0].encoding.dtype == np.float32


def test_a_damaged_model_file_is_refused():
    data = bytearray(open(_model_file("encoder"), "rb").read())
    with pytest.raises(DlibModelError):
        read_layers(b"\x01\x01\x05other" + bytes(data[20:]))
    at = data.index(b"con_4")
    data[at:at + 5] = b"cox_4"  # a layer kind this converter does not know
    with pytest.raises(DlibModelError):
        read_layers(bytes(data))


def test_the_graph_has_dlibs_layers():
    _, layers = read_layers(open(_model_file("encoder"), "rb").read())
    kinds = [kind for kind, _ in layers]
    assert kinds.count("con") == 29 and kinds.count("add_prev") == 14
    graph = build_model(layers).graph
    assert sum(node.op_type == "Conv" for node in graph.node) == 29  # affine folded in
    assert [i.name for i in graph.input] == ["chip"]
