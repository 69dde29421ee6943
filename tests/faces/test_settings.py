import pytest

from phopy.faces import EngineSettings
from phopy.faces.device import cuda_device_count, describe, resolve_detector, resolve_model
from phopy.faces.settings import PROFILES
from tests.conftest import make_engine_settings, make_test_config, model_dir


def test_defaults():
    settings = EngineSettings()
    assert (settings.model, settings.upsample, settings.num_jitters) == ("auto", 1, 1)
    assert settings.encoding_model == "large"
    assert settings.detect_max_side == 2400
    # The default engine is SFace, chosen on the bench's Asian and other people.
    assert (settings.engine, settings.detector) == ("sface", "auto")
    assert settings.tolerance == PROFILES["sface"].tolerance == 0.545
    assert settings.profile == PROFILES["sface"] and settings.uses_yunet


def test_from_mapping_reads_strings_like_the_environment():
    settings = EngineSettings.from_mapping({
        "FACE_ENGINE": "dlib",
        "FACE_MODEL": "HOG", "FACE_UPSAMPLE": "0", "FACE_DETECT_MAX_SIDE": "1600",
        "FACE_JITTERS": "2", "FACE_ENCODING_MODEL": "small", "FACE_TOLERANCE": "0.45",
        "OTHER": "ignored"})
    assert settings == EngineSettings("hog", 0, 1600, 2, "small", 0.45, engine="dlib")
    # FACE_MODEL naming a dlib detector keeps that detector (no YuNet instead)
    assert settings.detector == "hog"


def test_from_mapping_missing_or_empty_keys_keep_defaults():
    assert EngineSettings.from_mapping({}) == EngineSettings()
    assert EngineSettings.from_mapping({"FACE_UPSAMPLE": "", "FACE_MODEL": None}) == \
        EngineSettings()


def test_from_mapping_takes_typed_values():
    settings = EngineSettings.from_mapping({"FACE_UPSAMPLE": 2, "FACE_TOLERANCE": 0.6})
    assert (settings.upsample, settings.tolerance) == (2, 0.6)


@pytest.mark.parametrize("key, value, words", [
    ("FACE_MODEL", "gpu", "auto, hog, cnn"),
    ("FACE_UPSAMPLE", "many", "integer"),
    ("FACE_UPSAMPLE", "9", "between 0 and 3"),
    ("FACE_DETECT_MAX_SIDE", "50", "at least 160"),
    ("FACE_JITTERS", "0", "between 1 and 100"),
    ("FACE_ENCODING_MODEL", "huge", "large, small"),
    ("FACE_TOLERANCE", "close", "number"),
    ("FACE_TOLERANCE", "0", "above 0"),
])
def test_from_mapping_bad_values_name_the_key(key, value, words):
    with pytest.raises(ValueError) as caught:
        EngineSettings.from_mapping({key: value})
    assert str(caught.value).startswith(key + ":")
    assert words in str(caught.value)


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        EngineSettings().tolerance = 0.6


def test_device_on_this_machine():
    count = cuda_device_count()
    assert count >= 0
    assert resolve_model("auto") == ("cnn" if count else "hog")
    assert resolve_model("hog") == "hog"
    with pytest.raises(ValueError):
        resolve_model("fast")


def test_describe_for_the_banner():
    info = describe(EngineSettings(engine="dlib", model="hog", tolerance=0.45))
    assert info["model"] == "hog"
    assert info["device"] == "cpu" or info["device"].startswith("cuda (")
    assert {"tolerance": 0.45, "upsample": 1, "detect_max_side": 2400, "jitters": 1}.items() \
        <= info.items()


def test_engine_and_detector_settings():
    dlib = EngineSettings.from_mapping({"FACE_ENGINE": "dlib"})
    assert (dlib.engine, dlib.tolerance, dlib.profile.metric, dlib.profile.size) == \
        ("dlib", 0.5, "euclidean", 128)
    mfn = EngineSettings.from_mapping({"FACE_ENGINE": " MobileFaceNet "})
    assert (mfn.engine, mfn.tolerance, mfn.profile.metric, mfn.profile.size) == \
        ("mobilefacenet", 0.555, "cosine", 512)
    assert mfn.uses_yunet and not dlib.uses_yunet
    sface = EngineSettings.from_mapping({"FACE_ENGINE": "SFace"})
    assert (sface.engine, sface.tolerance, sface.profile.metric, sface.profile.size) == \
        ("sface", 0.545, "cosine", 128)
    yunet = EngineSettings.from_mapping({"FACE_ENGINE": "dlib", "FACE_DETECTOR": "yunet",
                                         "FACE_TOLERANCE": "0.45"})
    assert yunet.uses_yunet and yunet.engine == "dlib" and yunet.tolerance == 0.45
    assert EngineSettings.from_mapping({"FACE_ENGINE": "dlib",
                                        "FACE_DETECTOR": "cnn"}).model == "cnn"
    with pytest.raises(ValueError, match="sface finds faces with yunet"):
        EngineSettings.from_mapping({"FACE_DETECTOR": "hog"})
    with pytest.raises(ValueError, match="FACE_ENGINE"):
        EngineSettings.from_mapping({"FACE_ENGINE": "arcface"})
    with pytest.raises(ValueError, match="only works with the dlib engine"):
        EngineSettings(engine="mobilefacenet", detector="hog")
    info = describe(mfn)
    assert info["engine"] == "mobilefacenet" and info["model"] == "yunet"
    assert info["onnx_device"] in ("cpu", "cuda")


def test_dlib_finds_faces_with_yunet_when_its_weights_are_here(tmp_path):
    here = make_engine_settings("dlib")  # the real YuNet file, fetched if missing
    assert here.detector == "auto" and not here.uses_yunet
    assert resolve_detector(here) == ("yunet", None)
    assert describe(here)["model"] == "yunet" and describe(here)["detector_fallback"] is None
    # asked for HOG: HOG, without a word
    assert resolve_detector(make_engine_settings("dlib", detector="hog")) == ("hog", None)
    # no weights in the model folder: FACE_MODEL decides (HOG on a CPU), and says why
    empty = EngineSettings(engine="dlib", model_dir=str(tmp_path))
    detector, why = resolve_detector(empty)
    assert detector == ("cnn" if cuda_device_count() else "hog")
    assert "YuNet" in why and str(tmp_path) in why and "python -m phopy.faces.models" in why
    (tmp_path / "face_detection_yunet_2023mar.onnx").write_bytes(b"not the model")
    assert resolve_detector(empty)[0] == detector, "a damaged file is no YuNet either"
    # the other engines always use YuNet, whatever is in the folder (they fail loudly)
    assert resolve_detector(EngineSettings(engine="sface", model_dir=str(tmp_path)))[0] == "yunet"


def test_the_start_up_banner_says_when_dlib_falls_back_to_hog(tmp_path):
    from phopy import create_app
    from phopy.startup_banner import banner_lines

    empty = tmp_path / "no-models"
    empty.mkdir()
    fallback = banner_lines(create_app(make_test_config(
        tmp_path, FACE_ENGINE="dlib", FACE_MODEL_DIR=str(empty))))
    text = "\n".join(fallback)
    detector = "cnn" if cuda_device_count() else "hog"
    assert f"Detector:    {detector}" in text
    assert "YuNet's weights are not usable" in text and "finds faces with" in text
    assert "dlib matches Asian faces poorly" in text
    found = "\n".join(banner_lines(create_app(make_test_config(
        tmp_path / "b", FACE_ENGINE="dlib", FACE_MODEL_DIR=model_dir()))))
    assert "Detector:    yunet" in found and "YuNet's weights" not in found
    default = "\n".join(banner_lines(create_app(make_test_config(
        tmp_path / "c", FACE_ENGINE=None, FACE_MODEL_DIR=model_dir()))))
    assert "Engine:      sface" in default and "Asian faces poorly" not in default
