"""YuNet's second look at small faces and MobileFaceNet's alignment, on real photos."""
import numpy as np
import pytest
from PIL import Image

from phopy.faces import FaceEngine
from phopy.faces.models import model_path
from phopy.faces.onnx_models import (ARCFACE_POINTS, YUNET_NMS, YUNET_SCORE, YUNET_TOP_K,
                                     align_face)
from tests.conftest import make_engine_settings, model_dir
from tests.faces.helpers import upright


@pytest.fixture(scope="module")
def yunet():
    engine = FaceEngine(make_engine_settings("mobilefacenet"))
    engine.load()
    return engine._models["yunet"]


@pytest.mark.parametrize("photo", [
    "group_photos/fr_kit_with_rose.jpg", "group_photos/dlib_2008_004176.jpg",
    "pytorch_retinaface/test.jpg", "lfw_4plus/Paula_Radcliffe/Paula_Radcliffe_0001.jpg"])
def test_yunet_on_onnxruntime_finds_what_opencv_finds(yunet, faces_dir, photo):
    import cv2

    rgb = np.asarray(upright(faces_dir / photo))
    opencv = cv2.FaceDetectorYN.create(str(model_path("yunet", model_dir())), "",
                                       (rgb.shape[1], rgb.shape[0]), YUNET_SCORE, YUNET_NMS,
                                       YUNET_TOP_K)
    _, rows = opencv.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    expected = sorted([row[1], row[0] + row[2], row[1] + row[3], row[0], *row[4:14]]
                      for row in rows)
    ours = sorted([*box, *points.reshape(-1)] for box, points in yunet.detect(rgb))
    assert len(ours) == len(expected) >= 1
    assert np.abs(np.float32(ours) - np.float32(expected)).max() < 0.01


def _largest(found):
    return max(found, key=lambda face: face[0][1] - face[0][3])


@pytest.mark.parametrize("face_px", [26, 32])
def test_a_small_face_gets_the_keypoints_of_its_full_size_view(yunet, faces_dir, face_px):
    portrait = upright(faces_dir / "face_recognition_examples" / "obama.jpg")
    rgb = np.asarray(portrait)
    box, reference = _largest(yunet.detect(rgb))
    width = box[1] - box[3]
    scale = face_px / width
    small = portrait.resize((round(portrait.width * scale), round(portrait.height * scale)),
                            Image.Resampling.LANCZOS)
    small_box, small_points = _largest(yunet.detect(np.asarray(small)))
    back = np.float32([portrait.width / small.width, portrait.height / small.height])
    coarse = small_points * back
    refined = yunet.refine(rgb, tuple(v / scale for v in small_box), coarse)

    def error(points):  # mean keypoint distance, in % of the face's width
        return float(np.mean(np.hypot(*(points - reference).T))) / width * 100

    assert error(refined) < 4 < error(coarse), (error(coarse), error(refined))


def test_keypoints_where_there_is_no_face_are_kept(yunet, faces_dir):
    blank = np.asarray(upright(faces_dir / "no_faces" / sorted(
        p.name for p in (faces_dir / "no_faces").iterdir() if p.suffix == ".jpg")[0]))
    points = ARCFACE_POINTS * 0.5 + np.float32([40, 40])
    box = (40.0, 100.0, 100.0, 40.0)
    assert yunet.refine(blank, box, points) is points


def test_alignment_fits_all_five_points(faces_dir):
    # A face turned and scaled: the crop puts its five points on the template, the
    # least-squares fit of all five, even where one point is a few pixels off.
    angle, scale, shift = np.deg2rad(12), 2.3, np.float32([310, 140])
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = ARCFACE_POINTS @ rotation.T * scale + shift
    points[3] += (4, -3)  # one mouth corner misplaced
    image = np.zeros((700, 700, 3), np.uint8)
    for x, y in points:  # mark each point with a bright dot
        image[round(y) - 2:round(y) + 3, round(x) - 2:round(x) + 3] = 255
    crop = align_face(image, points)
    spots = []
    for x, y in ARCFACE_POINTS:
        window = crop[int(y) - 6:int(y) + 7, int(x) - 6:int(x) + 7, 0]
        assert window.max() > 100, "each point lands near its template spot"
        dy, dx = np.unravel_index(np.argmax(window), window.shape)
        spots.append((int(x) - 6 + dx, int(y) - 6 + dy))
    misses = np.hypot(*(np.float32(spots) - ARCFACE_POINTS).T)
    # least squares spreads the misplaced point's error: no point lands exactly on it
    # and none far off (a robust fit would put four exactly and the fifth ~2 px away)
    assert misses.max() < 2.0 and np.count_nonzero(misses < 0.75) < 5, misses
