"""flask copy-storage: a file-backend install's objects into S3, verified, safe to re-run."""

from phopy.storage import make_storage
from tests.conftest import add_files, make_event, make_photographer
from tests.storage.conftest import s3_settings



def test_copy_storage_copies_every_object_and_a_second_run_copies_none(app, runner, tmp_path):
    settings = s3_settings()
    owner = make_photographer(app)
    event = make_event(app, owner["id"])  # its QR code
    from PIL import Image
    for n, colour in enumerate(("red", "blue")):
        Image.new("RGB", (640, 480), colour).save(tmp_path / f"p{n}.jpg")
    add_files(app, event["id"], [tmp_path / "p0.jpg", tmp_path / "p1.jpg"], queue=False)
    local = make_storage(app.config)
    keys = sorted(k for prefix in ("originals", "thumbnails", "qr")
                  for k, _ in local.list(prefix))
    assert len(keys) == 5  # two originals, two thumbnails, one QR code
    app.config.update(settings)
    app.config["STORAGE_BACKEND"] = "file"  # still serving from the folder meanwhile
    result = runner.invoke(args=["copy-storage"])
    assert result.exit_code == 0, result.output
    assert '"copied": 5' in result.output and '"failed": []' in result.output
    bucket = make_storage(settings)
    for key in keys:
        assert bucket.read(key) == local.read(key)
    again = runner.invoke(args=["copy-storage"])
    assert again.exit_code == 0 and '"copied": 0' in again.output and '"already": 5' in again.output


def test_copy_storage_says_what_is_wrong_with_the_s3_settings(app, runner):
    app.config.update(s3_settings(), S3_SECRET_KEY="wrong")
    result = runner.invoke(args=["copy-storage"])
    assert result.exit_code != 0 and "S3_SECRET_KEY" in result.output
