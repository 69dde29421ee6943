"""Generated race photos: a bib drawn under a runner's face on the shared face photos.

The photo is laid on a taller canvas (the runner's shirt below it) and a white bib
with black digits is drawn a little below the chin, in a DejaVu font from Debian's
fonts-dejavu-core (Pillow's own font when it is missing). A timing chip's small
digits can go beside the bib.
"""
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")


def font(size, bold=True):
    """A DejaVu Sans font of ``size`` pixels (Pillow's default font when absent)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        path = Path(folder) / name
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def draw_bib(draw, centre_x, top, number, digit_height, chip=None):
    """A white bib with ``number`` centred at ``centre_x`` from ``top``; a timing chip
    (small digits, a fifth of the bib's) below its right corner when ``chip`` is given."""
    face = font(int(digit_height * 1.35))
    left, upper, right, lower = draw.textbbox((0, 0), number, font=face)
    width, height = right - left, lower - upper
    pad = int(digit_height * 0.35)
    box = (centre_x - width // 2 - pad, top, centre_x + width // 2 + pad, top + height + 2 * pad)
    draw.rectangle(box, fill="white", outline="black", width=2)
    draw.text((box[0] + pad - left, top + pad - upper), number, fill="black", font=face)
    if chip:
        small = font(max(8, int(digit_height / 5)), bold=False)
        draw.text((box[2] + 4, box[3] - int(digit_height / 4)), chip, fill="black", font=small)
    return box


def runner_photo(engine, source, number=None, *, hide_face=False, chip=None, max_side=640,
                 blur=0):
    """JPEG bytes: the photo at ``source`` (scaled to ``max_side``) over a shirt, with
    ``number`` on a bib under its largest face (found with ``engine``). ``hide_face``
    paints over the face afterwards (a runner turned away, a cap and a hand); ``blur``
    blurs the shirt and bib by that radius (a runner in motion)."""
    photo = Image.open(source).convert("RGB")
    photo.thumbnail((max_side, max_side))
    top, right, bottom, left = face_box(engine, jpeg(photo))
    fh = bottom - top
    canvas = Image.new("RGB", (photo.width, photo.height + 3 * fh), (30, 80, 160))
    canvas.paste(photo, (0, 0))
    draw = ImageDraw.Draw(canvas)
    # the shirt runs from the chin down, under the face
    draw.rectangle((max(0, left - fh), bottom + fh // 3, min(canvas.width, right + fh),
                    canvas.height), fill=(30, 80, 160))
    if number:
        draw_bib(draw, (left + right) // 2, bottom + int(fh * 0.8), number, int(fh * 0.4), chip)
    if hide_face:
        draw.rectangle((left - fh // 3, top - fh // 3, right + fh // 3, bottom + fh // 6),
                       fill=(60, 40, 30))
    if blur:
        shirt = (max(0, left - fh), bottom, min(canvas.width, right + fh), canvas.height)
        canvas.paste(canvas.crop(shirt).filter(ImageFilter.BoxBlur(blur)), shirt[:2])
    return jpeg(canvas)


def jpeg(image):
    """JPEG bytes of a PIL image."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def face_box(engine, data):
    """The largest face (top, right, bottom, left) the engine finds in JPEG bytes."""
    faces = engine.analyze_photo(data).faces
    return max(faces, key=lambda f: f.area).box
