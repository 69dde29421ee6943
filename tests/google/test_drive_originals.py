"""DRIVE_KEEP_ORIGINALS=0: a display-size copy is stored; downloads and the ZIP fetch the
original from Drive."""
import io
import shutil
import zipfile

import pytest

from phopy import create_app
from phopy.data import get_database
from phopy.extensions import get_link_signer, get_storage
from phopy.services import links
from phopy.google import sync as drive, accounts as google_accounts
from tests.conftest import index_all, make_event, make_photographer, make_test_config
from tests.fakes.google_fixture import FakeGoogle
from tests.google.conftest import grant_drive

BIG = "insightface_samples/inspireface_test_res/search/Mary_Katherine_Smart_0001_5k.jpg"


@pytest.mark.parametrize("keep", [True, False])
def test_originals_kept_or_fetched_from_drive(tmp_path, faces_dir, keep):
    folder = tmp_path / "big"
    folder.mkdir()
    shutil.copy(faces_dir / BIG, folder / "big.jpg")
    shutil.copy(faces_dir / "face_recognition_examples" / "biden.jpg", folder / "biden.jpg")
    original = (folder / "big.jpg").read_bytes()
    google = FakeGoogle(folders=[folder])
    try:
        app = create_app(make_test_config(tmp_path / "app", AUTO_INDEX=False,
                                          DRIVE_KEEP_ORIGINALS=keep, **google.config()))
        owner = make_photographer(app)
        grant_drive(app, google, owner["id"])
        event = make_event(app, owner["id"], "Big photos")
        conn = get_database(app).connect()
        client = google_accounts.drive_client(conn, app.config, owner["id"])
        drive.link_folder(conn, app.config, client, event["id"], owner["id"],
                          google.folder_id(folder))
        index_all(app)
        photo = conn.one("SELECT * FROM photos WHERE filename = 'big.jpg'")
        stored = get_storage(app).read(photo["storage_key"])
        assert (stored == original) is keep
        downloads_before = google.media_count()
        web = app.test_client()
        token = links.sign_photo(get_link_signer(app), event["id"], photo["id"])
        response = web.get(f"/p/{token}/download")
        assert response.status_code == 200 and response.data == original
        ids = [r["id"] for r in conn.all("SELECT id FROM photos ORDER BY id")]
        zip_token = links.sign_photo_set(get_link_signer(app), event["id"], ids)
        response = web.get(f"/e/{event['code']}/photos.zip?t={zip_token}")
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            assert archive.read("big.jpg") == original
            assert sorted(archive.namelist()) == ["biden.jpg", "big.jpg"]
        assert google.media_count() == downloads_before + (0 if keep else 3)
        conn.close()
    finally:
        google.stop()
