"""Downloads of found photos with an event banner are bounded (issue 19 #6): the banner's
pixels are checked before it is decoded, each photo's bannered copy is made once per banner
version, a ZIP is streamed with no temp file, and downloads are limited per address."""
import io
import os
import threading
import zipfile
from pathlib import Path

import pytest
import requests
from PIL import Image

from phopy import create_app
from phopy.data import get_database
from phopy.extensions import get_link_signer, get_storage
from phopy.services import links, overlays
from tests.conftest import (add_files, db_rows, login, make_event, make_photographer,
                            make_test_config)
from tests.live_server import LiveServer


def png(size, color=(255, 0, 0, 255), optimize=True):
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, format="PNG", optimize=optimize)
    return out.getvalue()


def bomb_png(side=13300):
    """A small PNG that declares side x side pixels (a decompression bomb)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def noisy_jpeg(path, size=(1600, 1200), seed=0):
    """A photo-sized JPEG that does not compress away (random pixels)."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3) if seed is None
                    else Image.effect_noise(size, 90 + seed).convert("RGB").tobytes()).save(
        path, format="JPEG", quality=95)
    return path


def upload_banner(client, event, data, position="bottom-right"):
    return client.post(f"/dashboard/events/{event['id']}/banner",
                       data={"banner": (io.BytesIO(data), "logo.png"),
                             "banner_position": position},
                       content_type="multipart/form-data", follow_redirects=True)


def download_url(app, event_id, photo_id, kind="download"):
    with app.app_context():
        return f"/p/{links.sign_photo(get_link_signer(app), event_id, photo_id)}/{kind}"


def zip_url(app, event):
    ids = [r["id"] for r in db_rows(app, "SELECT id FROM photos WHERE event_id = ? ORDER BY id",
                                    (event["id"],))]
    with app.app_context():
        return f"/e/{event['code']}/photos.zip?t=" + links.sign_photo_set(
            get_link_signer(app), event["id"], ids)


@pytest.fixture
def owner_event(app, client):
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Banner party")
    login(client)
    return event


def test_a_banner_declaring_too_many_pixels_is_refused_before_decoding(app, client,
                                                                        owner_event):
    bomb = bomb_png()
    assert len(bomb) < 100_000
    page = upload_banner(client, owner_event, bomb).get_data(as_text=True)
    assert "too many pixels" in page
    assert db_rows(app, "SELECT banner_key FROM events")[0]["banner_key"] is None
    page = upload_banner(client, owner_event, bomb_png(), position="top")
    assert db_rows(app, "SELECT banner_key FROM events")[0]["banner_key"] is None
    th = client.post(f"/dashboard/events/{owner_event['id']}/banner",
                     data={"banner": (io.BytesIO(bomb), "logo.png")},
                     content_type="multipart/form-data", follow_redirects=True,
                     headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert "ล้านพิกเซล" in th


def test_a_wide_banner_is_stored_at_most_4096_pixels_a_side(app, client, owner_event):
    upload_banner(client, owner_event, png((6000, 300)))
    stored = client.get(f"/dashboard/events/{owner_event['id']}/banner.png").data
    with Image.open(io.BytesIO(stored)) as img:
        assert img.size == (4096, 205) and img.mode == "RGBA"
        assert img.getpixel((10, 10)) == (255, 0, 0, 255)


def reference_composite(photo_path, banner_bytes):
    """The banner laid on the whole photo in one go (full-size RGBA), as it used to be."""
    from phopy.faces import open_image
    image = open_image(photo_path)
    banner = Image.open(io.BytesIO(banner_bytes)).convert("RGBA")
    height = min(image.height, round(banner.height * image.width / banner.width))
    width = round(banner.width * height / banner.height) if height == image.height \
        else image.width
    banner = banner.resize((width, height), Image.LANCZOS)
    full = image.convert("RGBA")
    full.alpha_composite(banner, ((image.width - width) // 2, image.height - height))
    return full.convert("RGB")


def test_a_tall_full_width_banner_is_laid_on_in_bands_without_seams(app, client, owner_event,
                                                                    faces_dir):
    photo = faces_dir / "group_photos" / "fr_kit_with_rose.jpg"
    add_files(app, owner_event["id"], [photo], queue=False)
    row = db_rows(app, "SELECT * FROM photos")[0]
    gradient = Image.linear_gradient("L").resize((300, 900))  # taller than a band, smooth
    banner = Image.merge("RGBA", (gradient, Image.new("L", gradient.size, 40),
                                  gradient.transpose(Image.FLIP_TOP_BOTTOM),
                                  Image.new("L", gradient.size, 200)))
    out = io.BytesIO()
    banner.save(out, format="PNG")
    upload_banner(client, owner_event, out.getvalue(), position="bottom")
    got = Image.open(io.BytesIO(client.get(download_url(app, owner_event["id"],
                                                        row["id"])).data)).convert("RGB")
    expected = reference_composite(photo, out.getvalue())
    assert got.size == expected.size
    from PIL import ImageChops, ImageStat
    diff = ImageChops.difference(got, expected).convert("L")
    assert ImageStat.Stat(diff).mean[0] < 2
    rows = [ImageStat.Stat(diff.crop((0, y, diff.width, y + 1))).mean[0]
            for y in range(diff.height)]
    assert max(rows) < 6, max(rows)  # no row (a band's edge) stands out


def test_a_bannered_copy_is_made_once_and_follows_banner_changes(app, client, owner_event,
                                                                 faces_dir):
    photo_path = faces_dir / "group_photos" / "fr_kit_with_rose.jpg"
    add_files(app, owner_event["id"], [photo_path], queue=False)
    row = db_rows(app, "SELECT * FROM photos")[0]
    url = download_url(app, owner_event["id"], row["id"])
    renditions = Path(app.config["DATA_DIR"]) / "renditions" / owner_event["id"]
    upload_banner(client, owner_event, png((200, 100), (255, 0, 0, 255)))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(app.test_client().get(url)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.data for a in answers}) == 1  # one copy, made once, for all four
    assert len(list(renditions.glob("*.jpg"))) == 1
    red = Image.open(io.BytesIO(answers[0].data)).convert("RGB")
    corner = (red.width - int(red.width * 0.02) - 5, red.height - int(red.height * 0.02) - 5)
    assert red.getpixel(corner)[0] > 200
    upload_banner(client, owner_event, png((200, 100), (0, 0, 255, 255)))
    assert not list(renditions.glob("*.jpg"))  # the old banner's copies are gone
    blue = Image.open(io.BytesIO(client.get(url).data)).convert("RGB")
    assert blue.getpixel(corner)[2] > 200 and blue.getpixel(corner)[0] < 60
    client.post(f"/dashboard/events/{owner_event['id']}/photos/{row['id']}/delete")
    if not db_rows(app, "SELECT id FROM photos"):
        assert not list(renditions.glob("*.jpg"))  # a deleted photo's copies go with it


def test_downloads_and_zips_are_limited_per_address(tmp_path, faces_dir):
    app = create_app(make_test_config(tmp_path, RATELIMIT_ENABLED=True,
                                      DOWNLOAD_RATE_LIMIT="3 per minute",
                                      ZIP_RATE_LIMIT="2 per minute"))
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    add_files(app, event["id"], [faces_dir / "group_photos" / "fr_two_people.jpg"], queue=False)
    row = db_rows(app, "SELECT * FROM photos")[0]
    client = app.test_client()
    thumbs = [client.get(download_url(app, event["id"], row["id"], "thumb")).status_code
              for _ in range(5)]
    assert thumbs == [200] * 5  # thumbnails are not counted
    full = [client.get(download_url(app, event["id"], row["id"], kind)).status_code
            for kind in ("view", "download", "download", "view")]
    assert full == [200, 200, 200, 429]
    zips = [client.get(zip_url(app, event)).status_code for _ in range(3)]
    assert zips == [200, 200, 429]
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other.get(download_url(app, event["id"], row["id"])).status_code == 200


def open_files_under(pid, folder):
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder)) and "/wgunicorn-" not in target:  # its heartbeat
            found.append(target)
    return found


@pytest.mark.slow
def test_a_zip_is_streamed_as_it_is_made_with_no_temp_file(tmp_path):
    tmp = tmp_path / "server-tmp"
    tmp.mkdir()
    (tmp_path / "srv").mkdir()
    with LiveServer(tmp_path / "srv", TMPDIR=str(tmp)) as server:
        app = server.app()
        owner = make_photographer(app)
        event = make_event(app, owner["id"], "Zip party")
        photos = [noisy_jpeg(tmp_path / f"p{i}.jpg", (1800, 1300), seed=i) for i in range(8)]
        add_files(app, event["id"], photos, queue=False)
        conn = get_database(app).connect()
        try:
            with app.app_context():
                overlays.save_banner(conn, get_storage(app), event["id"], png((300, 120)),
                                     "bottom-right")
        finally:
            conn.close()
        worker = server.worker_pid()
        response = requests.get(server.url + zip_url(app, event), stream=True, timeout=60)
        assert response.status_code == 200
        chunks = response.iter_content(4096)
        first = next(chunks)
        assert first.startswith(b"PK")
        held = open_files_under(worker, tmp)  # while the archive is being sent
        renditions = Path(server.data_dir) / "renditions" / event["id"]
        made_so_far = len(list(renditions.glob("*.jpg")))
        body = first + b"".join(chunks)
        assert held == []
        assert made_so_far < len(photos)  # the first bytes left before every copy was made
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
        assert len(names) == len(photos) and all(n.endswith(".jpg") for n in names)
        assert len(list(renditions.glob("*.jpg"))) == len(photos)
