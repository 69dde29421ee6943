"""SFace, the default engine: its folded graph, its session, and its encodings on real photos."""
import numpy as np
import pytest

from phopy.faces import FaceEngine
from phopy.faces.models import ensure_model
from phopy.faces.onnx_models import SFaceEncoder, align_face, load_sface, sface_session
from tests.conftest import make_engine_settings, model_dir
from tests.faces.helpers import upright


@pytest.fixture(scope="module")
def sface():
    return FaceEngine(make_engine_settings("sface"))


@pytest.fixture(scope="module")
def path():
    return str(ensure_model("sface", model_dir()))


def crops(sface, faces_dir):
    """Real aligned 112x112 RGB crops: YuNet's keypoints on the shared photos."""
    sface.load()
    yunet = sface._models["yunet"]
    out = []
    for name in ("face_recognition_examples/obama.jpg", "face_recognition_examples/biden.jpg",
                 "group_photos/fr_kit_with_rose.jpg"):
        rgb = np.asarray(upright(faces_dir / name))
        out += [align_face(rgb, points) for _, points in yunet.detect(rgb)]
    return out


def test_the_folded_graph_gives_the_quantised_graphs_outputs(sface, faces_dir, path):
    import onnxruntime as ort

    # The quantised graph itself, only its stale inputs dropped (what onnxruntime refuses).
    quantised = ort.InferenceSession(load_sface(path).SerializeToString(),
                                     providers=["CPUExecutionProvider"])
    folded = sface_session(path)
    assert len(folded.get_inputs()) == 1 and len(quantised.get_inputs()) == 1
    faces = crops(sface, faces_dir)
    assert len(faces) >= 4
    for crop in faces:
        blob = np.ascontiguousarray(crop.astype(np.float32).transpose(2, 0, 1)[np.newaxis])
        want = quantised.run(None, {"data": blob})[0]
        got = folded.run(None, {"data": blob})[0]
        assert want.shape == got.shape == (1, 128)
        assert np.abs(want - got).max() < 1e-5, np.abs(want - got).max()


def test_the_folded_session_is_built_once_per_file(path):
    first, second = SFaceEncoder(path), SFaceEncoder(path)
    assert first._session is second._session is sface_session(path)
    folded = load_sface(path)
    assert not [i.name for i in folded.graph.input if i.name != "data"], "stale inputs dropped"


def test_sface_puts_the_same_person_closer_than_anyone_else(sface, faces_dir):
    examples = faces_dir / "face_recognition_examples"
    people = {
        "obama": [examples / "obama.jpg", examples / "obama2.jpg",
                  faces_dir / "face_recognition_tests" / "obama3.jpg"],
        "biden": [examples / "biden.jpg", examples / "knn_examples" / "train" / "biden" / "biden2.jpg"],
    }
    for who in ("kit_harington", "rose_leslie", "alex_lacamoire"):  # 2, 2 and 1 photos
        people[who] = sorted((examples / "knn_examples" / "train" / who).iterdir())[:3]
    vectors = {who: [sface.selfie_face(p).encoding for p in paths] for who, paths in people.items()}
    for vs in vectors.values():
        assert all(v.shape == (128,) and abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in vs)
    same = [1 - float(a @ b) for vs in vectors.values()
            for i, a in enumerate(vs) for b in vs[i + 1:]]
    different = [1 - float(a @ b) for who, vs in vectors.items() for other, ws in vectors.items()
                 if who < other for a in vs for b in ws]
    tolerance = sface.settings.tolerance
    assert max(same) < tolerance < min(different), (max(same), min(different))
