"""Selfie analysis: the quick first look at a reduced copy finds the same faces
as the full photo pipeline, only the largest is encoded, and the queue bound
refuses at once when full."""
import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from phopy.errors import ServerBusy
from phopy.faces import EngineSettings, FaceEngine
from phopy.faces.selfie_pool import SelfieAnalyzer
from tests.conftest import make_engine_settings

EXAMPLES = ["obama.jpg", "biden.jpg", "two_people.jpg", "obama2.jpg", "alex-lacamoire.png",
            "knn_examples/test/obama_and_biden.jpg"]


def phone_selfie(path):
    """The photo padded and scaled to a 3000 x 4000 phone JPEG."""
    image = ImageOps.pad(Image.open(path).convert("RGB"), (3000, 4000), color=(120, 120, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def hog_engine():
    return FaceEngine(make_engine_settings("dlib", detector="hog"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_quick_look_finds_the_same_faces_as_the_full_analysis(hog_engine, faces_dir, name):
    """The HOG selfie shortcut (half-size decode, one 800 px scan) against the
    photo pipeline (2400 px, upsampled): the same faces, the largest encoded alike."""
    data = phone_selfie(faces_dir / "face_recognition_examples" / name)
    full = sorted(hog_engine.analyze_photo(data).faces, key=lambda face: face.area, reverse=True)
    quick = hog_engine.analyze_selfie(data)
    assert len(quick) == len(full) >= 1
    same = min(full, key=lambda face: _centre_gap(face.box, quick[0].box))  # same person
    assert _centre_gap(same.box, quick[0].box) < 0.2 * (quick[0].box[1] - quick[0].box[3])
    assert np.linalg.norm(quick[0].encoding - same.encoding) < 0.12
    assert all(face.encoding is None for face in quick[1:])  # only the largest is encoded


@pytest.mark.parametrize("name", ["obama.jpg", "two_people.jpg", "knn_examples/test/kit_with_rose.jpg",
                                  "knn_examples/test/obama_and_biden.jpg"])
def test_a_selfie_encodes_only_its_largest_face(engine, faces_dir, name):
    data = phone_selfie(faces_dir / "face_recognition_examples" / name)
    faces = engine.analyze_selfie(data)
    assert faces and faces[0].encoding is not None
    assert faces[0].encoding.shape == (engine.settings.profile.size,)
    assert [f.area for f in faces] == sorted((f.area for f in faces), reverse=True)
    assert all(face.encoding is None for face in faces[1:])


def test_the_pool_answers_like_the_engine(engine, faces_dir):
    data = phone_selfie(faces_dir / "face_recognition_examples" / "two_people.jpg")
    analyzer = SelfieAnalyzer(engine.settings, processes=1)
    try:
        pooled = analyzer.analyze_selfie(data)
    finally:
        analyzer.close()
    here = engine.analyze_selfie(data)
    assert [f.box for f in pooled] == [f.box for f in here]
    assert np.allclose(pooled[0].encoding, here[0].encoding, atol=1e-5)


def test_a_full_queue_refuses_at_once(engine):
    analyzer = SelfieAnalyzer(EngineSettings(), capacity=2, engine=engine)
    with analyzer.slot(), analyzer.slot():
        with pytest.raises(ServerBusy):
            with analyzer.slot():
                pass
    with analyzer.slot():  # places are given back
        pass


def _centre_gap(a, b):
    """Distance between the centres of two (top, right, bottom, left) boxes."""
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))
