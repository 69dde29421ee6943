"""Decode photos safely: sniff the format, orient by EXIF, downscale cheaply.

Only JPEG, PNG, GIF, WebP and HEIC/HEIF are decoded (Pillow is told so), so a
stray EPS or TIFF never reaches a decoder we did not mean to expose. Every
decoding problem becomes ``ImageDecodeError``; files are fully loaded here so a
truncated upload fails at once, not later inside the face engine.
"""
import io
import logging
import math
import threading
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from phopy.errors import N_, FileTooLarge, ImageDecodeError, Message, UnsupportedFile

log = logging.getLogger(__name__)

# Pillow openers we agree to use (phone "MPO" JPEGs open through "JPEG"); "HEIF"
# joins once pillow_heif is registered.
PIL_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
               b"mif1", b"msf1", b"mif2"}
EXIF_ORIENTATION = 0x0112
# What a photo from the public may declare before anything is decoded (a 140 KB
# PNG can declare 12000 x 12000 pixels: a gigabyte once decoded).
DEFAULT_MAX_PIXELS = 120_000_000
UNREADABLE = N_("The file could not be read as an image.")
DAMAGED = N_("The image is damaged or truncated.")

_heif_lock = threading.Lock()
_heif_registered = False


def sniff_format(data):
    """Return "jpeg", "png", "gif", "webp" or "heic" from the magic bytes, else None."""
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heic"
    return None


def check_dimensions(source, max_pixels=DEFAULT_MAX_PIXELS, name=""):
    """The (width, height) a file declares, read from its header only; raise
    FileTooLarge when it declares more than ``max_pixels``.

    Call this on every image from outside (uploads, selfies, Drive, LINE)
    before decoding it: nothing is decoded here, so a decompression bomb costs
    nothing. Raises ImageDecodeError/UnsupportedFile for bytes that are no image.
    """
    data = read_bytes(source)
    if not data:
        raise ImageDecodeError(N_("The file is empty."))
    require_supported(data)
    _prepare_opener(data)
    try:
        with Image.open(io.BytesIO(data), formats=_formats()) as img:
            width, height = img.size
    except Image.DecompressionBombError:
        width = height = None
    except Exception as exc:
        log.info("unreadable image header: %s", exc)
        raise ImageDecodeError(UNREADABLE) from None
    if width is None or width * height > max_pixels:
        raise FileTooLarge(Message(
            N_("%(name)s has too many pixels: at most %(mp)d megapixels are accepted."),
            name=name or "The photo", mp=max_pixels // 1_000_000), filename=name)
    return width, height


def require_supported(data):
    """Return the sniffed format of upload bytes, or raise UnsupportedFile."""
    if not data:
        raise ImageDecodeError(N_("The file is empty."))
    kind = sniff_format(data)
    if kind is None:
        raise UnsupportedFile(N_("Only JPEG, PNG, GIF, WebP and HEIC photos are supported."))
    return kind


def read_bytes(source):
    """Return the bytes of a source: bytes-like, or a path as str/Path."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    raise TypeError(f"expected bytes or a path, got {type(source).__name__}")


def open_image(source, max_side=None):
    """Decode to an EXIF-oriented RGB image, longest side <= max_side if given."""
    return decode_image(source, max_side)[0]


def decode_image(source, max_side=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Like open_image, but also return the oriented full-resolution (width, height).

    Every decode goes through here, and nothing that declares more than
    ``max_pixels`` is decoded (FileTooLarge): the last guard against a
    decompression bomb on any path (uploads, selfies, LINE, Drive, banners)."""
    data = read_bytes(source)
    if not data:
        raise ImageDecodeError(N_("The file is empty."))
    _prepare_opener(data)
    try:
        img = Image.open(io.BytesIO(data), formats=_formats())
        if img.width * img.height > max_pixels:
            raise FileTooLarge(Message(
                N_("%(name)s has too many pixels: at most %(mp)d megapixels are accepted."),
                name="The photo", mp=max_pixels // 1_000_000))
        full_size = _oriented_size(img)
        if max_side and img.format in ("JPEG", "MPO"):
            scale = max_side / max(img.size)
            if scale < 1:  # let libjpeg decode at 1/2, 1/4 or 1/8 size
                img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
        _load_strict(img)
        image = _orient(img)
        if image.mode != "RGB":
            image = image.convert("RGB")
    except FileTooLarge:
        raise
    except Image.DecompressionBombError:
        raise FileTooLarge(Message(
            N_("%(name)s has too many pixels: at most %(mp)d megapixels are accepted."),
            name="The photo", mp=max_pixels // 1_000_000)) from None
    except UnidentifiedImageError as exc:
        log.info("unidentified image: %s", exc)
        raise ImageDecodeError(UNREADABLE) from None
    except Exception as exc:  # untrusted bytes: any decoder failure means unreadable
        log.info("undecodable image: %s", exc)  # the detail is for logs, not for people
        raise ImageDecodeError(DAMAGED) from None
    if max_side:
        image = downscale(image, max_side)
    return image, full_size


_strict_lock = threading.Lock()


def _load_strict(img):
    """Load the pixels, refusing truncated files even when another library
    (face_recognition does, on import) set ``ImageFile.LOAD_TRUNCATED_IMAGES``."""
    if not ImageFile.LOAD_TRUNCATED_IMAGES:
        img.load()
        return
    with _strict_lock:
        previous, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            img.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def downscale(image, max_side, resample=Image.Resampling.BILINEAR):
    """Return image shrunk so its longest side is <= max_side (never upscaled)."""
    width, height = image.size
    longest = max(width, height)
    if not max_side or longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, resample, reducing_gap=2.0)


def image_size(source):
    """Return the oriented (width, height) without decoding the pixels."""
    data = read_bytes(source)
    if not data:
        raise ImageDecodeError(N_("The file is empty."))
    _prepare_opener(data)
    try:
        with Image.open(io.BytesIO(data), formats=_formats()) as img:
            return _oriented_size(img)
    except Exception as exc:
        log.info("unreadable image header: %s", exc)
        raise ImageDecodeError(UNREADABLE) from None


def make_thumbnail(image, max_side=480, quality=82):
    """Return JPEG bytes of image shrunk to fit in max_side x max_side."""
    width, height = image.size
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumb = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if scale < 1 else image
    if thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _formats():
    return PIL_FORMATS + ("HEIF",) if _heif_registered else PIL_FORMATS


def _prepare_opener(data):
    """Register the HEIF opener the first time a HEIC file shows up."""
    global _heif_registered
    if _heif_registered or sniff_format(data) != "heic":
        return
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif
            pillow_heif.register_heif_opener()
            _heif_registered = True


def _orientation(img):
    try:
        return int(img.getexif().get(EXIF_ORIENTATION) or 1)
    except Exception:  # unreadable EXIF: treat as upright
        return 1


def _oriented_size(img):
    width, height = img.size
    return (height, width) if _orientation(img) in (5, 6, 7, 8) else (width, height)


def _orient(img):
    """Apply the EXIF orientation in place; a broken EXIF block leaves it as is."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:
        log.warning("ignoring unreadable EXIF orientation", exc_info=True)
    return img
