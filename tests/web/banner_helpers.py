"""Event banners in tests: a banner PNG, and a check that a download carries it."""
import io


def banner_png():
    """A 200x100 PNG: left half opaque red, right half fully transparent."""
    from PIL import Image
    img = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (0, 0, 100, 100))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def assert_has_banner(data, original_path):
    """The download is the original with the banner at the bottom right (transparency kept)."""
    from PIL import Image

    from phopy.faces import open_image
    got = Image.open(io.BytesIO(data)).convert("RGB")
    original = open_image(original_path)
    assert got.size == original.size
    w = int(got.width * 0.3)
    h = round(100 * w / 200)
    margin = int(min(got.size) * 0.02)
    y = got.height - margin - h // 2
    red = got.getpixel((got.width - margin - int(w * 0.75), y))
    assert red[0] > 200 and red[1] < 70 and red[2] < 70
    clear_x = got.width - margin - int(w * 0.25)
    seen, before = got.getpixel((clear_x, y)), original.getpixel((clear_x, y))
    assert all(abs(a - b) < 40 for a, b in zip(seen, before))
    top_left = got.getpixel((5, 5)), original.getpixel((5, 5))
    assert all(abs(a - b) < 40 for a, b in zip(*top_left))
