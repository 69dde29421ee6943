"""Every photo file the web serves comes through the storage interface (issue 20).

A real app on a real S3 server (SeaweedFS): originals, thumbnails, QR codes,
banners, bannered copies and ZIPs are streamed from the bucket, or handed out as
presigned URLs with S3_PRESIGN_SECONDS, and no photo lands in the data folder.
"""
import io
import zipfile
from pathlib import Path

import requests
from PIL import Image

from phopy import create_app
from phopy.extensions import get_link_signer, get_storage
from phopy.services import links
from tests.conftest import add_files, db_rows, login, make_event, make_photographer, \
    make_test_config
from tests.storage.conftest import s3_settings
from tests.web.banner_helpers import assert_has_banner, banner_png


def s3_app(tmp_path, **overrides):
    settings = s3_settings(**overrides)
    return create_app(make_test_config(tmp_path, **settings))


def photo_url(app, event_id, photo_id, kind):
    with app.app_context():
        return f"/p/{links.sign_photo(get_link_signer(app), event_id, photo_id)}/{kind}"


def zip_url(app, event, ids):
    with app.app_context():
        return f"/e/{event['code']}/photos.zip?t=" + links.sign_photo_set(
            get_link_signer(app), event["id"], ids)


def stored_files(app):
    """Files below the data folder that are photos, thumbnails, QR codes or banners."""
    root = Path(app.config["DATA_DIR"])
    return [p for top in ("originals", "thumbnails", "qr", "banners", "renditions")
            for p in (root / top).rglob("*") if p.is_file()]


def test_s3_photos_are_streamed_from_the_bucket_and_none_is_in_the_data_folder(tmp_path,
                                                                               faces_dir):
    app = s3_app(tmp_path)
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "S3 party")
    client = app.test_client()
    login(client)
    paths = [faces_dir / "group_photos/fr_two_people.jpg",
             faces_dir / "face_recognition_examples/obama.jpg"]
    add_files(app, event["id"], paths, queue=False)
    rows = db_rows(app, "SELECT * FROM photos ORDER BY filename")
    row, original = rows[0], paths[0].read_bytes()
    assert row["filename"] == "fr_two_people.jpg"
    base = f"/dashboard/events/{event['id']}"

    got = client.get(f"{base}/photos/{row['id']}/original")
    assert got.status_code == 200 and got.data == original
    assert got.content_length == len(original) and got.mimetype == "image/jpeg"
    thumb = client.get(f"{base}/photos/{row['id']}/thumb")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.data)).format == "JPEG"
    qr = client.get(f"{base}/qr.png?download=1")
    assert qr.status_code == 200 and qr.data.startswith(b"\x89PNG")
    assert "attachment" in qr.headers["Content-Disposition"]
    view = client.get(photo_url(app, event["id"], row["id"], "view"))
    assert view.status_code == 200 and view.data == original
    download = client.get(photo_url(app, event["id"], row["id"], "download"))
    assert download.data == original and "attachment" in download.headers["Content-Disposition"]
    plain_zip = client.get(zip_url(app, event, [r["id"] for r in rows]))
    assert plain_zip.status_code == 200
    assert plain_zip.content_length == len(plain_zip.data)  # sized from the photo rows
    with zipfile.ZipFile(io.BytesIO(plain_zip.data)) as archive:
        assert sorted(archive.read(n) for n in archive.namelist()) == sorted(
            p.read_bytes() for p in paths)

    client.post(f"{base}/banner", data={"banner": (io.BytesIO(banner_png()), "logo.png"),
                                        "banner_position": "bottom-right"},
                content_type="multipart/form-data")
    preview = client.get(f"/dashboard/events/{event['id']}/banner.png")
    assert preview.status_code == 200 and preview.data == banner_png()
    bannered = client.get(photo_url(app, event["id"], row["id"], "download"))
    assert bannered.status_code == 200
    assert_has_banner(bannered.data, paths[0])
    storage = get_storage(app)
    assert len(list(storage.list(f"renditions/{event['id']}"))) == 1  # kept in the bucket
    bannered_zip = client.get(zip_url(app, event, [r["id"] for r in rows]))
    with zipfile.ZipFile(io.BytesIO(bannered_zip.data)) as archive:
        assert len(archive.namelist()) == 2 and archive.testzip() is None
    assert len(list(storage.list(f"renditions/{event['id']}"))) == 2

    assert stored_files(app) == []  # every byte above came from the bucket


def test_presigned_urls_send_browsers_to_the_bucket(tmp_path, faces_dir):
    app = s3_app(tmp_path, S3_PRESIGN_SECONDS=60)
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Presigned party")
    path = faces_dir / "group_photos/fr_two_people.jpg"
    add_files(app, event["id"], [path], queue=False)
    row = db_rows(app, "SELECT * FROM photos")[0]
    client = app.test_client()

    answer = client.get(photo_url(app, event["id"], row["id"], "download"))
    assert answer.status_code == 302
    assert answer.location.startswith(app.config["S3_ENDPOINT_URL"])
    assert "no-store" in answer.headers["Cache-Control"] or \
        "max-age=0" in answer.headers["Cache-Control"]
    fetched = requests.get(answer.location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == path.read_bytes()
    assert "attachment" in fetched.headers["Content-Disposition"]
    thumb = client.get(photo_url(app, event["id"], row["id"], "thumb"))
    assert thumb.status_code == 302
    assert requests.get(thumb.location, timeout=10).headers["Content-Type"] == "image/jpeg"
    # the pages may show images from the bucket: the CSP names its origin
    page = client.get(f"/e/{event['code']}")
    assert f"img-src 'self' {app.config['S3_ENDPOINT_URL']}" in \
        page.headers["Content-Security-Policy"]
