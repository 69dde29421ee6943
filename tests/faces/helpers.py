"""Small builders for face engine tests: images made in memory from real photos."""
import io

from PIL import Image


def jpeg_bytes(image, **params):
    """Encode a PIL image as JPEG bytes."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, **params)
    return out.getvalue()


def upright(path):
    """Open a dataset photo as an RGB image."""
    with Image.open(path) as img:
        return img.convert("RGB")
