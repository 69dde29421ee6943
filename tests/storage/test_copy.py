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


def test_every_folder_phopy_writes_is_copied_and_goes_with_its_event():
    """copy-storage copies all_prefixes() and an event's deletion removes
    event_prefixes(): a key maker whose folder is in neither loses data (slips and
    kept copies of sold photos once were)."""
    from phopy.sales.kept import kept_key
    from phopy.sales.previews import preview_key
    from phopy.sales.promptpay import slip_key
    from phopy.services.crops import crops_prefix
    from phopy.services.overlays import banner_key, renditions_prefix
    from phopy.storage import all_prefixes, event_prefixes, original_key, qr_key, \
        thumbnail_key
    event = "ev-1"
    keys = [original_key(event, "h", "jpg"), thumbnail_key(event, "h"), banner_key(event),
            renditions_prefix(event) + "/x.jpg", crops_prefix(event) + "/1.jpg",
            preview_key(event, 1), slip_key(event, "o"), kept_key(event, "o", 1)]
    for key in keys:
        assert key.split("/")[0] in all_prefixes(), key
        assert any(key.startswith(p + "/") for p in event_prefixes(event)), key
    assert qr_key(event).split("/")[0] in all_prefixes()
