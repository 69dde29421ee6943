"""scripts/backup.sh during indexing, scripts/restore.sh elsewhere: every event, photo, face."""
import json
import os
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import add_files, db_rows, make_event, make_photographer

REPO_ROOT = Path(__file__).resolve().parent.parent
GROUP = ["fr_two_people.jpg", "fr_obama_and_biden.jpg", "fr_kit_with_rose.jpg"]


def run_script(name, data_dir, *args):
    env = dict(os.environ, PHOPY_DATA_DIR=str(data_dir), DATABASE_URL="")
    return subprocess.run([str(REPO_ROOT / "scripts" / name), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=300)


def rows(app, sql):
    return db_rows(app, sql)


@pytest.fixture
def busy_app(face_app, faces_dir):
    """An app whose runner is indexing 3 events' photos in a background thread."""
    from phopy.jobs.setup import make_runner
    owner = make_photographer(face_app)
    people = sorted((faces_dir / "lfw_4plus").iterdir())[:8]
    for i in range(3):
        event = make_event(face_app, owner["id"], f"Event number {i}")
        paths = [faces_dir / "group_photos" / n for n in GROUP]
        paths += [p for person in people[i::3] for p in sorted(person.glob("*.jpg"))[:3]]
        add_files(face_app, event["id"], paths)
    runner = make_runner(face_app)
    runner._pool_factory = lambda: face_app.extensions["phopy_test_pool"]
    runner.poll_seconds = 0.1
    runner.start()
    yield face_app
    runner.stop(timeout=120)


@pytest.mark.skipif(os.environ.get("PHOPY_TEST_DATABASE") == "postgresql",
                    reason="SQLite round trip; tests/test_backup_postgresql.py covers PostgreSQL")
def test_backup_during_indexing_restores_every_event_photo_and_face(busy_app, tmp_path):
    from phopy import create_app
    from tests.conftest import make_test_config
    app = busy_app
    deadline = time.monotonic() + 60
    while not rows(app, "SELECT 1 FROM photo_checkpoints") and time.monotonic() < deadline:
        time.sleep(0.05)
    made = run_script("backup.sh", app.config["DATA_DIR"], "--out", tmp_path / "backups")
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.strip())
    assert archive.parent == tmp_path / "backups" and archive.name.startswith("phopy-backup-")
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    total_photos = rows(app, "SELECT COUNT(*) AS n FROM photos")[0]["n"]
    assert manifest["counts"]["photos"] == total_photos == 3 * len(GROUP) + 8 * 3
    assert 0 < manifest["counts"]["photo_checkpoints"] < total_photos  # taken mid-indexing
    assert all(len(d) == 64 for d in manifest["files"].values())

    target = tmp_path / "restored"
    restored = run_script("restore.sh", target, archive)
    assert restored.returncode == 0, restored.stderr
    assert "restored and verified" in restored.stdout
    copy = create_app(make_test_config(tmp_path / "copy", DATA_DIR=str(target)))
    assert rows(copy, "SELECT id, code, name FROM events ORDER BY id") == \
        rows(app, "SELECT id, code, name FROM events ORDER BY id")
    assert rows(copy, "SELECT id, content_hash FROM photos ORDER BY id") == \
        rows(app, "SELECT id, content_hash FROM photos ORDER BY id")
    # Every face of the snapshot is there, consistent with its checkpoint, and the same
    # as in the source (indexing only added more since).
    faces = rows(copy, "SELECT photo_id, COUNT(*) AS n FROM faces GROUP BY photo_id")
    checkpoints = {r["photo_id"]: r["faces_count"]
                   for r in rows(copy, "SELECT photo_id, faces_count FROM photo_checkpoints")}
    assert {f["photo_id"]: f["n"] for f in faces} == {p: n for p, n in checkpoints.items() if n}
    source_faces = {(r["id"], r["encoding"]) for r in
                    rows(app, "SELECT id, encoding FROM faces")}
    assert {(r["id"], r["encoding"]) for r in rows(copy, "SELECT id, encoding FROM faces")} \
        <= source_faces
    for photo in rows(copy, "SELECT storage_key FROM photos"):
        assert (target / photo["storage_key"]).is_file()

    again = run_script("restore.sh", target, archive)
    assert again.returncode == 1 and "not empty" in again.stderr


def test_restore_refuses_a_tampered_archive(app, tmp_path):
    owner = make_photographer(app)
    make_event(app, owner["id"], "Small party")
    made = run_script("backup.sh", app.config["DATA_DIR"], "--out", tmp_path)
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.strip())
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    qr = next((unpacked / "files").rglob("*.png"))
    qr.write_bytes(qr.read_bytes() + b"tampered")
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        for name in ("manifest.json", "db", "files"):
            tar.add(unpacked / name, arcname=name)
    result = run_script("restore.sh", tmp_path / "target", bad)
    assert result.returncode == 1 and "checksums do not match" in result.stderr
    assert not (tmp_path / "target").exists() or not any((tmp_path / "target").iterdir())
