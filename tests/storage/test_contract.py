"""One contract for every storage backend: the file backend and S3 (SeaweedFS)."""
import io
import os
import time

import pytest
import requests

from phopy.errors import StorageMissing, StorageUnavailable, TransientError
from phopy.storage import make_storage
from tests.storage.conftest import s3_settings

PHOTO = os.urandom(300_000)  # bigger than one read chunk


def test_save_read_open_exists_round_trip(storage):
    key = "originals/ev1/abc.jpg"
    assert not storage.exists(key) and not storage.exists(None)
    assert storage.save(key, PHOTO) == key
    assert storage.exists(key)
    assert storage.read(key) == PHOTO
    with storage.open(key) as fh:  # streams: the first chunk before the rest
        first = fh.read(1000)
        rest = fh.read()
    assert first + rest == PHOTO and len(first) == 1000
    storage.save(key, b"replaced")  # saving again replaces
    assert storage.read(key) == b"replaced"


def test_stat_and_chunks(storage):
    key = "originals/ev1/s.jpg"
    before = time.time()
    storage.save(key, PHOTO)
    size, mtime = storage.stat(key)
    assert size == len(PHOTO) and abs(mtime - before) < 120
    fh, sized = storage.open_sized(key)
    with fh:
        assert sized == len(PHOTO) and fh.read() == PHOTO
    chunks = list(storage.chunks(key, 100_000))
    assert b"".join(chunks) == PHOTO and max(len(c) for c in chunks) <= 100_000
    assert len(chunks) >= 3
    with pytest.raises(StorageMissing):
        storage.stat("originals/ev1/none.jpg")
    with pytest.raises(StorageMissing):
        storage.open_sized("originals/ev1/none.jpg")
    with pytest.raises(StorageMissing):
        next(storage.chunks("originals/ev1/none.jpg"))


def test_save_takes_a_file_object(storage):
    storage.save("thumbnails/ev1/x.jpg", io.BytesIO(PHOTO))
    assert storage.read("thumbnails/ev1/x.jpg") == PHOTO


def test_a_missing_key_is_storage_missing_not_transient(storage):
    for action in (lambda: storage.read("originals/ev1/none.jpg"),
                   lambda: storage.open("originals/ev1/none.jpg")):
        with pytest.raises(StorageMissing) as caught:
            action()
        assert not isinstance(caught.value, TransientError)
    with pytest.raises(StorageMissing):
        with storage.local_copy("originals/ev1/none.jpg"):
            pass


def test_list_delete_and_delete_prefix(storage):
    for name in ("a", "b", "c"):
        storage.save(f"originals/ev1/{name}.jpg", name.encode())
    storage.save("originals/ev10/z.jpg", b"z")  # a neighbour whose name starts the same
    storage.save("thumbnails/ev1/a.jpg", b"t")
    before = time.time()
    listed = dict(storage.list("originals/ev1"))
    assert sorted(listed) == ["originals/ev1/a.jpg", "originals/ev1/b.jpg",
                              "originals/ev1/c.jpg"]
    assert all(abs(mtime - before) < 120 for mtime in listed.values())
    assert list(storage.list("originals/nothing")) == []
    storage.delete("originals/ev1/a.jpg")
    storage.delete("originals/ev1/a.jpg")  # twice: no error
    storage.delete(None)
    assert not storage.exists("originals/ev1/a.jpg")
    storage.delete_prefix("originals/ev1")
    assert list(storage.list("originals/ev1")) == []
    assert storage.read("originals/ev10/z.jpg") == b"z"
    assert storage.read("thumbnails/ev1/a.jpg") == b"t"


def test_delete_prefix_removes_more_than_one_page(storage):
    for n in range(1005 if storage.backend == "s3" else 30):
        storage.save(f"thumbnails/big/{n}.jpg", b"x")
    storage.delete_prefix("thumbnails/big")
    assert list(storage.list("thumbnails/big")) == []


def test_local_copy_is_a_readable_path(storage):
    storage.save("originals/ev1/p.jpg", PHOTO)
    with storage.local_copy("originals/ev1/p.jpg") as path:
        assert path.read_bytes() == PHOTO and path.suffix == ".jpg"
    if storage.backend == "s3":
        assert not path.exists()  # a temporary copy, removed
    else:
        assert path.exists()  # the stored file itself


def test_keys_cannot_climb_out(storage):
    for bad in ("../x.jpg", "originals/../../x", "/etc/passwd"):
        with pytest.raises(ValueError):
            storage.save(bad, b"x")


def test_check_passes_on_a_working_storage(storage):
    storage.check()
    assert storage.describe()


def test_url_is_none_when_the_app_streams(storage):
    storage.save("qr/ev1.png", b"png")
    assert storage.url("qr/ev1.png") is None


def test_copy_to_another_storage(storage, tmp_path):
    storage.save("banners/ev1/banner.png", PHOTO)
    target = make_storage({"STORAGE_BACKEND": "file", "DATA_DIR": str(tmp_path / "other")})
    storage.copy_to(target, "banners/ev1/banner.png")
    assert target.read("banners/ev1/banner.png") == PHOTO


# -- S3 only: presigned URLs, refused credentials, an unreachable server ----------------

def test_s3_presigned_url_serves_the_bytes_and_expires():
    storage = make_storage(s3_settings(S3_PRESIGN_SECONDS=2))
    storage.save("thumbnails/ev1/t.jpg", PHOTO)
    url = storage.url("thumbnails/ev1/t.jpg", filename="รูป 1.jpg")
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.content == PHOTO
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert "attachment" in answer.headers.get("Content-Disposition", "")
    time.sleep(3.5)
    assert requests.get(url, timeout=10).status_code == 403


def test_s3_wrong_secret_is_unavailable_with_a_message_that_names_the_setting():
    good = s3_settings()
    storage = make_storage(dict(good, S3_SECRET_KEY="not-the-secret"))
    with pytest.raises(StorageUnavailable) as caught:
        storage.read("originals/ev1/x.jpg")
    assert "S3_SECRET_KEY" in caught.value.message
    assert isinstance(caught.value, TransientError)
    with pytest.raises(StorageUnavailable):
        storage.check()


def test_s3_missing_bucket_and_unreachable_server_are_unavailable():
    settings = s3_settings()
    with pytest.raises(StorageUnavailable) as caught:
        make_storage(dict(settings, S3_BUCKET="no-such-bucket-here")).check()
    assert "S3_BUCKET" in caught.value.message
    # Nothing listens on port 9: the connection is refused.
    down = make_storage(dict(settings, S3_ENDPOINT_URL="http://127.0.0.1:9"))
    for action in (lambda: down.read("originals/ev1/x.jpg"), lambda: down.save("qr/x.png", b"x"),
                   lambda: list(down.list("originals")), down.check):
        with pytest.raises(StorageUnavailable) as caught:
            action()
        assert "S3_ENDPOINT_URL" in caught.value.message


def test_s3_prefix_keeps_installs_apart():
    one, two = make_storage(s3_settings()), make_storage(s3_settings())
    one.save("qr/ev1.png", b"one")
    assert not two.exists("qr/ev1.png")
    assert [k for k, _ in one.list("qr")] == ["qr/ev1.png"]  # keys come back without the prefix
