import pytest

from phopy.faces import EngineSettings
from phopy.faces.device import cuda_device_count, describe, resolve_model


def test_defaults():
    settings = EngineSettings()
    assert (settings.model, settings.upsample, settings.num_jitters) == ("auto", 1, 1)
    assert settings.encoding_model == "large"
    assert settings.tolerance == 0.5
    assert settings.detect_max_side == 2400


def test_from_mapping_reads_strings_like_the_environment():
    settings = EngineSettings.from_mapping({
        "FACE_MODEL": "HOG", "FACE_UPSAMPLE": "0", "FACE_DETECT_MAX_SIDE": "1600",
        "FACE_JITTERS": "2", "FACE_ENCODING_MODEL": "small", "FACE_TOLERANCE": "0.45",
        "OTHER": "ignored"})
    assert settings == EngineSettings("hog", 0, 1600, 2, "small", 0.45)


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
    info = describe(EngineSettings(model="hog", tolerance=0.45))
    assert info["model"] == "hog"
    assert info["device"] == "cpu" or info["device"].startswith("cuda (")
    assert {"tolerance": 0.45, "upsample": 1, "detect_max_side": 2400, "jitters": 1}.items() \
        <= info.items()


def test_engine_and_detector_settings():
    dlib = EngineSettings.from_mapping({})
    assert (dlib.engine, dlib.tolerance, dlib.profile.metric, dlib.profile.size) == \
        ("dlib", 0.5, "euclidean", 128)
    mfn = EngineSettings.from_mapping({"FACE_ENGINE": " MobileFaceNet "})
    assert (mfn.engine, mfn.tolerance, mfn.profile.metric, mfn.profile.size) == \
        ("mobilefacenet", 0.555, "cosine", 512)
    assert mfn.uses_yunet and not dlib.uses_yunet
    yunet = EngineSettings.from_mapping({"FACE_DETECTOR": "yunet", "FACE_TOLERANCE": "0.45"})
    assert yunet.uses_yunet and yunet.engine == "dlib" and yunet.tolerance == 0.45
    assert EngineSettings.from_mapping({"FACE_DETECTOR": "cnn"}).model == "cnn"
    with pytest.raises(ValueError, match="FACE_ENGINE"):
        EngineSettings.from_mapping({"FACE_ENGINE": "arcface"})
    with pytest.raises(ValueError, match="only works with the dlib engine"):
        EngineSettings(engine="mobilefacenet", detector="hog")
    info = describe(mfn)
    assert info["engine"] == "mobilefacenet" and info["model"] == "yunet"
    assert info["onnx_device"] in ("cpu", "cuda")
