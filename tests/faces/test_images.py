import io

import numpy as np
import pytest
from PIL import Image

from phopy.errors import ImageDecodeError, UnsupportedFile
from phopy.faces import make_thumbnail, open_image, sniff_format
from phopy.faces.images import decode_image, image_size, require_supported
from tests.faces.helpers import jpeg_bytes, upright

ORIENTATION = 0x0112
# EXIF orientation -> how to turn upright pixels into the stored pixels
STORED = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270,
          3: Image.Transpose.ROTATE_180}


@pytest.fixture(scope="module")
def obama(faces_dir):
    return upright(faces_dir / "face_recognition_examples" / "obama.jpg")


def encode(image, fmt, **params):
    if fmt == "HEIF":
        import pillow_heif
        pillow_heif.register_heif_opener()
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def rotated_jpeg(image, orientation):
    """Upright image stored rotated, with the EXIF tag that makes it upright."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return jpeg_bytes(image.transpose(STORED[orientation]), exif=exif.tobytes())


def mean_difference(a, b):
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


@pytest.mark.parametrize("fmt, name", [
    ("JPEG", "jpeg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp"), ("HEIF", "heic")])
def test_sniff_and_open_each_format(obama, fmt, name):
    small = obama.resize((182, 227))
    data = encode(small, fmt)
    assert sniff_format(data) == name
    assert require_supported(data) == name
    image = open_image(data)
    assert image.mode == "RGB" and image.size == small.size
    assert mean_difference(image, small) < 12  # lossy formats, GIF palette


@pytest.mark.parametrize("data", [b"", b"hello world", b"\x00" * 64, b"II*\x00" + b"\x00" * 60])
def test_sniff_unknown(data):
    assert sniff_format(data) is None


def test_sniff_heif_brands():
    for brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        assert sniff_format(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 12) == "heic"
    assert sniff_format(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12) is None


def test_require_supported_rejects_other_files():
    with pytest.raises(UnsupportedFile):
        require_supported(b"just some text, not a photo")


def test_open_accepts_path_str_and_bytes(faces_dir):
    path = faces_dir / "face_recognition_examples" / "obama.jpg"
    sizes = {open_image(path).size, open_image(str(path)).size, open_image(path.read_bytes()).size}
    assert sizes == {(910, 1137)}


def test_rgba_png_becomes_rgb(faces_dir):
    image = open_image(faces_dir / "face_recognition_tests" / "32bit.png")
    assert image.mode == "RGB"


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_exif_orientation_is_applied(obama, orientation):
    data = rotated_jpeg(obama, orientation)
    assert image_size(data) == obama.size
    image = open_image(data)
    assert image.size == obama.size
    assert mean_difference(image, obama) < 4


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_survives_draft_decoding(obama, orientation):
    data = rotated_jpeg(obama, orientation)
    image, full_size = decode_image(data, max_side=300)
    assert full_size == obama.size
    assert max(image.size) == 300 and image.height > image.width  # still portrait
    assert mean_difference(image, obama.resize(image.size)) < 8


def test_max_side_never_upscales(obama):
    assert open_image(jpeg_bytes(obama), max_side=5000).size == obama.size
    assert max(open_image(encode(obama, "PNG"), max_side=400).size) == 400


def test_heic_decodes_upright(obama):
    portrait = obama.resize((303, 379))
    data = encode(portrait, "HEIF", quality=80)
    assert sniff_format(data) == "heic"
    assert image_size(data) == portrait.size
    assert mean_difference(open_image(data), portrait) < 6


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageDecodeError):
        open_image(empty)
    with pytest.raises(ImageDecodeError):
        open_image(b"")


def test_truncated_jpeg(tmp_path, faces_dir):
    data = (faces_dir / "face_recognition_examples" / "obama.jpg").read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError):
        open_image(truncated)
    with pytest.raises(ImageDecodeError):
        open_image(truncated, max_side=200)


def test_text_named_jpg(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a photo\n" * 20)
    with pytest.raises(ImageDecodeError):
        open_image(text)
    with pytest.raises(ImageDecodeError):
        image_size(text)


def test_formats_we_do_not_accept_are_not_decoded(obama):
    with pytest.raises(ImageDecodeError):
        open_image(encode(obama, "TIFF"))


def test_missing_file_is_not_a_decode_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_image(tmp_path / "nowhere.jpg")


def test_make_thumbnail(obama):
    data = make_thumbnail(obama, max_side=200, quality=80)
    assert sniff_format(data) == "jpeg"
    thumb = Image.open(io.BytesIO(data))
    assert max(thumb.size) == 200 and thumb.height > thumb.width
    assert obama.size == (910, 1137)  # the original is left alone


def test_truncated_jpeg_refused_even_after_face_recognition_import(tmp_path, faces_dir):
    import face_recognition  # noqa: F401  (sets ImageFile.LOAD_TRUNCATED_IMAGES = True)
    from PIL import ImageFile
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    data = (faces_dir / "face_recognition_examples" / "obama.jpg").read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError):
        open_image(truncated)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as face_recognition wants it


def test_check_dimensions_refuses_a_bomb_from_its_header_alone():
    import time as _time

    from phopy.errors import FileTooLarge
    from phopy.faces.images import check_dimensions
    out = io.BytesIO()
    Image.new("L", (12000, 12000)).save(out, format="PNG", optimize=True)
    bomb = out.getvalue()
    assert len(bomb) < 300_000
    started = _time.process_time()
    with pytest.raises(FileTooLarge) as err:
        check_dimensions(bomb, 50_000_000, "bomb.png")
    assert _time.process_time() - started < 0.5  # nothing was decoded
    assert "megapixels" in err.value.message and "decompression" not in err.value.message
    # Past Pillow's own bomb limit it is the same friendly refusal.
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG", optimize=True)
    with pytest.raises(FileTooLarge):
        check_dimensions(out.getvalue(), 50_000_000, "huge.png")
    small = io.BytesIO()
    Image.new("RGB", (40, 30)).save(small, format="JPEG")
    assert check_dimensions(small.getvalue(), 50_000_000) == (40, 30)
