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
# backup.sh and restore.sh here read and write the SQLite file of a data folder; the
# PostgreSQL round trip (pg_dump, pg_restore) is tests/test_backup_postgresql.py.
pytestmark = pytest.mark.skipif(
    os.environ.get("PHOPY_TEST_DATABASE") == "postgresql",
    reason="SQLite data-folder round trip; tests/test_backup_postgresql.py covers PostgreSQL")
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


def run_under_umask(name, data_dir, *args, umask=0o022):
    env = dict(os.environ, PHOPY_DATA_DIR=str(data_dir), DATABASE_URL="")
    return subprocess.run([str(REPO_ROOT / "scripts" / name), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: os.umask(umask))


@pytest.fixture
def archive(app, tmp_path):
    """A real backup of a small account with one event (its QR code is a file)."""
    owner = make_photographer(app)
    make_event(app, owner["id"], "Small party")
    made = run_script("backup.sh", app.config["DATA_DIR"], "--out", tmp_path / "made")
    assert made.returncode == 0, made.stderr
    return Path(made.stdout.strip())


def repack(archive, tmp_path, change_manifest=None, extra=None, name="changed.tar.gz"):
    """The archive unpacked, its manifest changed, packed again (plus extra tar members)."""
    unpacked = tmp_path / ("unpacked-" + name)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    manifest = json.loads((unpacked / "manifest.json").read_text())
    if change_manifest:
        change_manifest(manifest)
    (unpacked / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / name
    with tarfile.open(out, "w:gz") as tar:
        for member in ("manifest.json", "db", "files"):
            tar.add(unpacked / member, arcname=member)
        for info, data in (extra or []):
            tar.addfile(info, data)
    return out


def modes(root):
    return {p.relative_to(root).as_posix(): p.stat().st_mode & 0o777
            for p in [root, *root.rglob("*")]}


def test_archives_and_restores_are_for_this_user_only_whatever_the_umask(app, tmp_path):
    owner = make_photographer(app)
    make_event(app, owner["id"], "Private party")
    made = run_under_umask("backup.sh", app.config["DATA_DIR"], "--out", tmp_path / "new-out")
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.strip())
    assert archive.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new-out").stat().st_mode & 0o777 == 0o700
    assert not list((tmp_path / "new-out").glob("*.partial"))

    target = tmp_path / "restored"
    restored = run_under_umask("restore.sh", target, archive)
    assert restored.returncode == 0, restored.stderr
    found = modes(target)
    assert (target / "phopy.db").is_file() and any(k.endswith(".png") for k in found)
    assert {k: m for k, m in found.items() if (target / k).is_dir() and m != 0o700} == {}
    assert {k: m for k, m in found.items() if (target / k).is_file() and m != 0o600} == {}


def test_a_restore_that_fails_verification_leaves_nothing_and_the_next_try_works(
        archive, tmp_path):
    def wrong_counts(manifest):
        manifest["counts"]["events"] += 1
    bad = repack(archive, tmp_path, wrong_counts)
    target = tmp_path / "place" / "data"
    failed = run_script("restore.sh", target, bad)
    assert failed.returncode == 1 and "row counts differ" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert not target.exists() or not any(target.iterdir())
    assert [p.name for p in target.parent.iterdir() if p != target] == []  # no staging left
    again = run_script("restore.sh", target, archive)
    assert again.returncode == 0, again.stderr
    assert (target / "phopy.db").is_file()


def test_truncated_damaged_and_foreign_archives_get_a_one_line_error(archive, tmp_path):
    import gzip
    data = archive.read_bytes()
    cases = {"truncated.tar.gz": data[:len(data) // 2],
             "cut-at-the-end.tar.gz": data[:-40],
             "flipped.tar.gz": data[:200] + bytes(b ^ 0xFF for b in data[200:260]) + data[260:],
             "random.bin": os.urandom(5000),
             "text.tar.gz": b"just some notes\n" * 30,
             "gzip-not-tar.tar.gz": gzip.compress(b"not a tar file" * 200),
             "empty.tar.gz": b""}
    plain_tar = tmp_path / "no-manifest.tar.gz"
    with tarfile.open(plain_tar, "w:gz") as tar:
        (tmp_path / "notes.txt").write_text("hello")
        tar.add(tmp_path / "notes.txt", arcname="notes.txt")
    paths = [plain_tar]
    for name, body in cases.items():
        (tmp_path / name).write_bytes(body)
        paths.append(tmp_path / name)
    info = tarfile.TarInfo("manifest.json")
    broken = b"{not json"
    info.size = len(broken)
    json_tar = tmp_path / "bad-json.tar.gz"
    with tarfile.open(json_tar, "w:gz") as tar:
        import io
        tar.addfile(info, io.BytesIO(broken))
    paths.append(json_tar)
    for path in paths:
        target = tmp_path / f"into-{path.name}"
        result = run_script("restore.sh", target, path)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1, (path.name, result.stdout, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), (path.name, result.stderr)
        assert not target.exists() or not any(target.iterdir()), path.name
        assert not list(tmp_path.glob(f".into-{path.name}.restore-*")), path.name


def test_no_manifest_entry_or_member_can_reach_outside_the_backup(archive, tmp_path):
    import hashlib
    import io
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of any backup")
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    up = os.path.relpath(outside, tmp_path / "whatever")

    def database_elsewhere(manifest):
        manifest["database"]["file"] = "../../../../etc/hostname"
        manifest["database"]["sha256"] = hashlib.sha256(
            Path("/etc/hostname").read_bytes()).hexdigest() if Path("/etc/hostname").exists() \
            else "0" * 64

    def file_climbs(manifest):
        manifest["files"]["../../" + up] = digest

    def file_absolute(manifest):
        manifest["files"][str(outside)] = digest

    def database_absolute(manifest):
        manifest["database"]["file"] = str(outside)
        manifest["database"]["sha256"] = digest

    link = tarfile.TarInfo("files/link.txt")
    link.type, link.linkname = tarfile.SYMTYPE, str(outside)
    hard = tarfile.TarInfo("files/hard.txt")
    hard.type, hard.linkname = tarfile.LNKTYPE, "manifest.json"
    unnamed = tarfile.TarInfo("files/unlisted.txt")
    unnamed.size = 5
    cases = [repack(archive, tmp_path, database_elsewhere, name="db-escape.tar.gz"),
             repack(archive, tmp_path, file_climbs, name="file-escape.tar.gz"),
             repack(archive, tmp_path, file_absolute, name="file-absolute.tar.gz"),
             repack(archive, tmp_path, database_absolute, name="db-absolute.tar.gz"),
             repack(archive, tmp_path, extra=[(link, None)], name="symlink.tar.gz"),
             repack(archive, tmp_path, extra=[(hard, None)], name="hardlink.tar.gz"),
             repack(archive, tmp_path, extra=[(unnamed, io.BytesIO(b"12345"))],
                    name="unlisted.tar.gz")]
    for bad in cases:
        target = tmp_path / f"into-{bad.name}"
        result = run_script("restore.sh", target, bad)
        assert result.returncode == 1, (bad.name, result.stdout)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (bad.name, result.stderr)
        assert not target.exists() or not any(target.iterdir()), bad.name
    assert outside.read_text() == "not part of any backup"
