"""The small pieces of the Google adapters: folder links, token encryption, client secrets."""
import json

import pytest

from phopy.google import tokens
from phopy.google.settings import client_credentials, is_configured
from phopy.google.drive import is_photo, parse_folder_ref

FOLDER = "1AbC_dEf-123456789xyz"


@pytest.mark.parametrize("text, expected", [
    (FOLDER, FOLDER),
    (f"  https://drive.google.com/drive/folders/{FOLDER}?usp=sharing ", FOLDER),
    (f"https://drive.google.com/drive/u/1/folders/{FOLDER}", FOLDER),
    (f"https://drive.google.com/open?id={FOLDER}", FOLDER),
    ("a" * 10, "a" * 10), ("a" * 100, "a" * 100),
    ("a" * 9, None), ("a" * 101, None), ("", None), (None, None),
    ("../../etc/passwd", None), ("abc def ghijkl", None), ("1AbC'dEf123456", None),
])
def test_folder_links_and_ids(text, expected):
    assert parse_folder_ref(text) == expected


def test_photo_types():
    assert is_photo({"mimeType": "image/jpeg", "name": "a.jpg"})
    assert is_photo({"mimeType": "image/heic", "name": "IMG_1.HEIC"})
    assert not is_photo({"mimeType": "video/mp4", "name": "clip.mp4"})
    assert not is_photo({"mimeType": "image/svg+xml", "name": "logo.svg"})
    assert not is_photo({"mimeType": "application/vnd.google-apps.document", "name": "x"})


def test_refresh_tokens_are_encrypted_and_keyed():
    cfg = {"SECRET_KEY": "one", "GOOGLE_TOKEN_KEY": None}
    blob = tokens.encrypt(cfg, "1//refresh")
    assert "1//refresh" not in blob and tokens.decrypt(cfg, blob) == "1//refresh"
    assert tokens.decrypt({"SECRET_KEY": "two"}, blob) is None  # another key: unreadable


def test_client_secrets_file(tmp_path):
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps({"web": {"client_id": "cid", "client_secret": "sec"}}))
    assert client_credentials({"GOOGLE_CLIENT_SECRETS_FILE": str(path)}) == ("cid", "sec")
    assert not is_configured({"GOOGLE_CLIENT_SECRETS_FILE": str(tmp_path / "missing.json")})
    assert not is_configured({"GOOGLE_CLIENT_ID": "cid"})
