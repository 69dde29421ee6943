"""Fixtures: a fake Google server (subprocess), an app pointed at it, a Drive grant."""
import shutil

import pytest

from phopy import create_app
from tests.conftest import make_photographer, make_test_config
from tests.fakes.google_fixture import FakeGoogle

PHOTOS = [("face_recognition_examples", "two_people.jpg"),
          ("face_recognition_examples", "biden.jpg"),
          ("face_recognition_tests", "obama3.jpg")]


@pytest.fixture
def event_folder(tmp_path, faces_dir):
    """A small event folder: three real photos, a 0-byte and a truncated JPEG, a subfolder."""
    folder = tmp_path / "Press Day"
    (folder / "day2").mkdir(parents=True)
    for sub, name in PHOTOS[:2]:
        shutil.copy(faces_dir / sub / name, folder / name)
    shutil.copy(faces_dir / PHOTOS[2][0] / PHOTOS[2][1], folder / "day2" / PHOTOS[2][1])
    (folder / "empty.jpg").write_bytes(b"")
    data = (faces_dir / "face_recognition_examples" / "biden.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    return folder


@pytest.fixture
def google(event_folder):
    fake = FakeGoogle(folders=[event_folder])
    yield fake
    fake.stop()


@pytest.fixture
def gapp(tmp_path, google):
    """An app whose Google endpoints are the fake's."""
    return create_app(make_test_config(tmp_path, **google.config()))


def grant_drive(app, google, photographer_id):
    """Run the real OAuth flow (PKCE, Basic auth) and store the Drive grant."""
    from phopy.data import get_database
    from phopy.google import oauth
    from phopy.google.settings import DRIVE_SCOPE, SIGN_IN_SCOPES
    from phopy.google import accounts as google_accounts
    cfg = app.config
    redirect = cfg["PUBLIC_BASE_URL"] + "/auth/google/callback"
    scopes = SIGN_IN_SCOPES + [DRIVE_SCOPE]
    url, state, verifier = oauth.start(cfg, scopes, redirect, offline=True)
    token = oauth.finish(cfg, scopes, redirect, state, verifier, google.consent(url))
    info = oauth.userinfo(cfg, token["access_token"])
    conn = get_database(app).connect()
    try:
        google_accounts.save_drive_grant(conn, cfg, photographer_id, token, info)
    finally:
        conn.close()
    return token


@pytest.fixture
def owner(gapp, google):
    user = make_photographer(gapp)
    grant_drive(gapp, google, user["id"])
    return user
