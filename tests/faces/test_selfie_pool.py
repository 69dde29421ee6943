"""The selfie pool: a quick first look at a reduced copy finds the same faces,
and the queue bound refuses at once when full."""
import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from phopy.errors import ServerBusy
from phopy.faces import EngineSettings
from phopy.faces.images import image_size, shrink_encoded
from phopy.faces.selfie_pool import SelfieAnalyzer, analyze_selfie, quick_engine

EXAMPLES = ["obama.jpg", "biden.jpg", "two_people.jpg", "obama2.jpg", "alex-lacamoire.png",
            "knn_examples/test/obama_and_biden.jpg"]


def phone_selfie(path):
    """The photo padded and scaled to a 3000 x 4000 phone JPEG."""
    image = ImageOps.pad(Image.open(path).convert("RGB"), (3000, 4000), color=(120, 120, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.parametrize("name", EXAMPLES)
def test_quick_look_finds_the_same_faces_as_the_full_analysis(engine, faces_dir, name):
    data = phone_selfie(faces_dir / "face_recognition_examples" / name)
    full = engine.analyze_selfie(data)
    quick = analyze_selfie(engine, quick_engine(engine), data)
    assert len(quick) == len(full) >= 1
    assert np.linalg.norm(quick[0].encoding - full[0].encoding) < 0.12


def test_shrink_encoded_decodes_small_and_keeps_small_files(faces_dir):
    data = phone_selfie(faces_dir / "face_recognition_examples" / "obama.jpg")
    small = shrink_encoded(data, 1024)
    assert image_size(small) == (768, 1024)
    tiny = io.BytesIO()
    Image.new("RGB", (300, 200)).save(tiny, "PNG")
    assert shrink_encoded(tiny.getvalue(), 1024) == tiny.getvalue()


def test_a_full_queue_refuses_at_once(engine):
    analyzer = SelfieAnalyzer(EngineSettings(), capacity=2, engine=engine)
    with analyzer.slot(), analyzer.slot():
        with pytest.raises(ServerBusy):
            with analyzer.slot():
                pass
    with analyzer.slot():  # places are given back
        pass
