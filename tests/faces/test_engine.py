import csv
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from phopy.errors import ImageDecodeError, NoFaceFound
from phopy.faces import EngineSettings, FaceEngine, FaceIndex, match_photos
from tests.conftest import make_engine_settings
from tests.faces.conftest import distance
from tests.faces.helpers import jpeg_bytes, upright

PASCAL = ["dlib_2007_007763.jpg", "dlib_2008_001009.jpg", "dlib_2008_001322.jpg",
          "dlib_2008_002079.jpg", "dlib_2008_002470.jpg", "dlib_2008_002506.jpg",
          "dlib_2008_004176.jpg", "dlib_2008_007676.jpg", "dlib_2009_004587.jpg"]
NAMED = ["fr_two_people.jpg", "fr_obama_and_biden.jpg", "fr_kit_with_rose.jpg"]


def overlap(a, b):
    """Intersection over union of two (top, right, bottom, left) boxes."""
    top, right = max(a[0], b[0]), min(a[1], b[1])
    bottom, left = min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, bottom - top) * max(0, right - left)
    area = lambda box: (box[2] - box[0]) * (box[1] - box[3])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_importing_the_package_loads_no_model():
    code = ("import sys, phopy.faces, phopy.faces.engine, phopy.faces.pool; "
            "e = phopy.faces.FaceEngine(); "
            "print(sorted(m for m in ('dlib', 'face_recognition', 'face_recognition_models') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_engine_code_imports_nothing_from_flask():
    from pathlib import Path
    for path in Path(__file__).resolve().parents[2].joinpath("phopy", "faces").glob("*.py"):
        text = path.read_text()
        assert "import flask" not in text.lower() and "from flask" not in text.lower(), path


def test_photo_analysis_shape(engine, analyze, faces_dir):
    size = engine.settings.profile.size
    result = analyze(faces_dir / "group_photos" / "fr_obama_and_biden.jpg")
    assert (result.engine, result.model_version) == engine.key
    assert (result.width, result.height) == (2000, 1428)
    # YuNet also reports an 18 px face in the background (score 0.63); HOG cannot see it
    assert len([f for f in result.faces if f.box[1] - f.box[3] >= 40]) == 3
    assert len(result.faces) == (3 if engine.model == "hog" else 4)
    for face in result.faces:
        top, right, bottom, left = face.box
        assert 0 <= top < bottom <= result.height and 0 <= left < right <= result.width
        assert face.encoding.dtype == np.float32 and face.encoding.shape == (size,)
        assert face.area == (bottom - top) * (right - left)


@pytest.mark.parametrize("who", ["obama", "biden"])
def test_selfie_matches_the_right_photos(engine, analyze, selfie, faces_dir, who):
    photos = {photo_id: analyze(faces_dir / "group_photos" / name)
              for photo_id, name in enumerate(NAMED, start=1)}
    rows = [(photo_id * 100 + n, photo_id, face.encoding)
            for photo_id, result in photos.items() for n, face in enumerate(result.faces)]
    profile, tolerance = engine.settings.profile, engine.settings.tolerance
    index = FaceIndex.from_rows(rows, engine=profile)
    me = selfie(faces_dir / "face_recognition_examples" / f"{who}.jpg")
    matches = match_photos(index, [me.encoding], tolerance=tolerance)
    assert sorted(m.photo_id for m in matches) == [1, 2]  # never kit_with_rose
    assert all(m.distance <= tolerance for m in matches)
    kit_and_rose = index.distances(me.encoding)[index.photo_ids == 3]
    assert kit_and_rose.min() > 1.2 * tolerance


@pytest.mark.parametrize("who, photo", [("kit_harington", "fr_kit_with_rose.jpg"),
                                        ("rose_leslie", "fr_kit_with_rose.jpg")])
def test_kit_and_rose_are_told_apart(engine, analyze, selfie, faces_dir, who, photo):
    train = faces_dir / "face_recognition_examples" / "knn_examples" / "train" / who
    me = selfie(sorted(train.iterdir())[0])
    rows = [(n, n, face.encoding) for n, face in
            enumerate(analyze(faces_dir / "group_photos" / photo).faces)]
    for name in NAMED[:2]:  # Obama and Biden photos: never this person
        rows += [(100 + len(rows), 99, face.encoding)
                 for face in analyze(faces_dir / "group_photos" / name).faces]
    profile, tolerance = engine.settings.profile, engine.settings.tolerance
    index = FaceIndex.from_rows(rows, engine=profile)
    matches = match_photos(index, [me.encoding], tolerance=tolerance)
    assert len(matches) == 1 and matches[0].photo_id in (0, 1)  # one face of the pair
    other = 1 - matches[0].photo_id
    assert index.distances(me.encoding)[other] > tolerance


def test_pascal_group_photos_find_every_face(engine, analyze, faces_dir):
    with open(faces_dir / "group_photos" / "manifest.csv", newline="") as f:
        expected = {row["file"]: int(row["faces_hog_up1"]) for row in csv.DictReader(f)}
    found = {name: len(analyze(faces_dir / "group_photos" / name).faces) for name in PASCAL}
    if engine.model == "hog":
        assert found == {name: expected[name] for name in PASCAL}
    else:  # YuNet finds every face HOG finds, and at most a few more (turned, small)
        assert all(expected[name] <= found[name] <= expected[name] + 2 for name in PASCAL), found


@pytest.mark.parametrize("name", ["dlib_dogs.jpg", "dlib_giraffe.jpg", "dlib_scream.jpg",
                                  "insightface_no_face.png", "dlib_mmod_cars_test_image.jpg"])
def test_no_faces(engine, analyze, selfie, faces_dir, name):
    result = analyze(faces_dir / "no_faces" / name)
    assert result.width > 0
    if engine.model == "hog" or name != "dlib_dogs.jpg":
        assert result.faces == []
    else:  # YuNet takes the two dogs' faces for faces (score 0.65-0.77): they match nobody
        me = selfie(faces_dir / "face_recognition_examples" / "obama.jpg")
        assert len(result.faces) == 2
        assert all(distance(engine, face.encoding, me.encoding) > engine.settings.tolerance
                   for face in result.faces)


@pytest.fixture(scope="module")
def draft_engine(engine):
    """An engine whose detection copy is small enough to take the JPEG draft path."""
    return FaceEngine(make_engine_settings(engine.settings.engine, detect_max_side=400))


@pytest.mark.parametrize("orientation, stored", [(6, Image.Transpose.ROTATE_90),
                                                 (8, Image.Transpose.ROTATE_270)])
def test_exif_rotated_photo_is_analyzed_upright(engine, draft_engine, faces_dir, orientation,
                                                stored):
    path = faces_dir / "face_recognition_examples" / "obama.jpg"
    reference = engine.analyze_photo(path).faces[0]
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = jpeg_bytes(upright(path).transpose(stored), exif=exif.tobytes())
    # default settings decode in full; a small detect_max_side takes the draft path
    for face_engine in (engine, draft_engine):
        result = face_engine.analyze_photo(data)
        assert (result.width, result.height) == (910, 1137)
        assert len(result.faces) == 1
        assert overlap(result.faces[0].box, reference.box) > 0.75
        assert distance(engine, result.faces[0].encoding, reference.encoding) < \
            0.2 * engine.settings.tolerance


def test_heic_photo(engine, selfie, faces_dir):
    import pillow_heif
    path = faces_dir / "face_recognition_examples" / "obama.jpg"
    out = io.BytesIO()
    pillow_heif.from_pillow(upright(path).resize((455, 568))).save(out, quality=85)
    faces = engine.analyze_selfie(out.getvalue())
    assert len(faces) == 1
    assert distance(engine, faces[0].encoding, selfie(path).encoding) < \
        0.2 * engine.settings.tolerance


def test_selfie_faces_largest_first(engine, faces_dir):
    faces = engine.analyze_selfie(faces_dir / "group_photos" / "fr_obama_and_biden.jpg")
    areas = [face.area for face in faces]
    assert len(faces) == 3 and areas == sorted(areas, reverse=True)


def test_big_phone_selfie_is_found_at_reduced_size(engine, faces_dir):
    portrait = upright(faces_dir / "face_recognition_examples" / "obama.jpg")
    phone = portrait.resize((3000, 3748), Image.Resampling.BICUBIC)
    faces = engine.analyze_selfie(jpeg_bytes(phone))
    assert len(faces) == 1 and faces[0].box[2] - faces[0].box[0] > 600


def face_on_a_phone_canvas(engine, faces_dir, face_px):
    """Obama's portrait scaled so his face is ~face_px wide, on a grey 3000x4000 canvas."""
    path = faces_dir / "face_recognition_examples" / "obama.jpg"
    (face,) = engine.analyze_photo(path).faces
    portrait = upright(path)
    width = round(portrait.width * face_px / (face.box[1] - face.box[3]))
    small = portrait.resize((width, portrait.height * width // portrait.width),
                            Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (3000, 4000), (128, 128, 128))
    canvas.paste(small, (1500 - small.width // 2, 1500))
    return jpeg_bytes(canvas)


def test_a_selfie_face_is_looked_for_down_to_a_twentieth_of_the_photo(engine, faces_dir):
    assert len(engine.analyze_selfie(face_on_a_phone_canvas(engine, faces_dir, 240))) == 1
    # A face of 90 px in a 4000 px photo is found there as in any event photo. As a
    # selfie, HOG does not scan for it at photo sizes (~1.4 s of CPU for every
    # faceless upload); YuNet's one larger look costs little and still finds it.
    far = face_on_a_phone_canvas(engine, faces_dir, 90)
    assert len(engine.analyze_photo(far).faces) == 1
    assert len(engine.analyze_selfie(far)) == (0 if engine.model == "hog" else 1)


def test_selfie_without_a_face(engine, faces_dir):
    path = faces_dir / "no_faces" / "dlib_dog.jpg"
    assert engine.analyze_selfie(path) == []
    with pytest.raises(NoFaceFound):
        engine.selfie_face(path)


def test_unreadable_photo(engine, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    with pytest.raises(ImageDecodeError):
        engine.analyze_photo(bad)


def test_engine_is_safe_to_share_between_threads(engine, faces_dir):
    from concurrent.futures import ThreadPoolExecutor
    path = faces_dir / "group_photos" / "dlib_2008_001009.jpg"
    with ThreadPoolExecutor(4) as threads:
        results = list(threads.map(engine.analyze_photo, [path] * 4))
    boxes = {tuple(face.box for face in result.faces) for result in results}
    assert len(boxes) == 1


def test_cnn_detector_path(faces_dir):
    # The GPU production path, run small on the CPU: same face, same person.
    path = faces_dir / "face_recognition_examples" / "obama.jpg"
    hog = FaceEngine(make_engine_settings("dlib", detector="hog",
                                          detect_max_side=400)).selfie_face(path)
    cnn = FaceEngine(EngineSettings(engine="dlib", model="cnn", upsample=0, detect_max_side=400))
    faces = cnn.analyze_selfie(path)
    assert cnn.model == "cnn" and len(faces) == 1
    assert overlap(faces[0].box, hog.box) > 0.5
    assert np.linalg.norm(faces[0].encoding - hog.encoding) < 0.15
