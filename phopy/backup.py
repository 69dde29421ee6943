"""Backups while the app runs, and restores that verify them.

    python -m phopy.backup create [--out DIR]          (scripts/backup.sh)
    python -m phopy.backup restore ARCHIVE             (scripts/restore.sh)

Settings come from the environment / .env as for the app (PHOPY_DATA_DIR,
DATABASE_URL). A backup is one dated ``phopy-backup-<UTC time>.tar.gz`` with:
the database (SQLite's online backup API, or ``pg_dump`` of one snapshot), the
data folder's files (originals, thumbnails, QR codes) and ``manifest.json``
with row counts and a SHA-256 per file. The database is copied first: photos
are stored on disk before their row, so every photo in the copy has its file.
Restore only writes into an empty data folder and an empty database, then
checks every checksum, every count, and that every photo's file is there.
"""
import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from phopy.data import Database
from phopy.data import backup as backup_db

log = logging.getLogger(__name__)
FORMAT = 1
SKIP_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal")


class BackupError(Exception):
    """A backup or restore that cannot go on, with the reason."""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def settings():
    """(data folder, database URL) as the app would use them."""
    from phopy.config import Config
    data_dir = Path(Config.DATA_DIR).resolve()
    return data_dir, Config.DATABASE_URL or f"sqlite:///{data_dir / 'phopy.db'}"


def _data_files(data_dir, database):
    """Relative paths of the data folder's files, the live database's own files left out."""
    db_files = set()
    if database.dialect == "sqlite":
        db_files = {str(Path(database.sqlite_path).resolve()) + s for s in ("", "-wal", "-shm",
                                                                              "-journal")}
    for path in sorted(Path(data_dir).rglob("*")):
        if path.is_file() and str(path.resolve()) not in db_files \
                and not path.name.startswith(".health-"):
            yield path.relative_to(data_dir)


def create_backup(data_dir, database_url, out_dir):
    """Write one dated archive into ``out_dir``; return its path."""
    data_dir, out_dir = Path(data_dir).resolve(), Path(out_dir).resolve()
    database = Database(database_url)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="phopy-backup-") as tmp:
        stage = Path(tmp)
        (stage / "db").mkdir()
        if database.dialect == "sqlite":
            db_file = stage / "db" / "phopy.db"
            backup_db.sqlite_online_backup(database.sqlite_path, db_file)
            copy = Database(f"sqlite:///{db_file}").connect()
            try:
                counts = backup_db.table_counts(copy)
            finally:
                copy.close()
        else:
            db_file = stage / "db" / "phopy.pgdump"
            counts = backup_db.pg_dump_consistent(database, db_file)
        files = {}
        for rel in _data_files(data_dir, database):
            target = stage / "files" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(data_dir / rel, target)
            except FileNotFoundError:  # deleted while we copied
                continue
            files[str(rel)] = sha256_file(target)
        manifest = {"format": FORMAT, "created_at": stamp, "dialect": database.dialect,
                    "database": {"file": f"db/{db_file.name}", "sha256": sha256_file(db_file)},
                    "counts": counts, "files": files}
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        archive = out_dir / f"phopy-backup-{stamp}.tar.gz"
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for name in ("manifest.json", "db", "files"):
                if (stage / name).exists():
                    tar.add(stage / name, arcname=name)
        os.replace(partial, archive)
    log.info("backup %s: %s", archive, counts)
    return archive


def _extract(archive, into):
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(into, filter="data")
    manifest_path = Path(into) / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{archive} has no manifest.json: not a Phopy backup")
    manifest = json.loads(manifest_path.read_text())
    bad = [name for name, digest in manifest["files"].items()
           if not (Path(into) / "files" / name).is_file()
           or sha256_file(Path(into) / "files" / name) != digest]
    db_file = Path(into) / manifest["database"]["file"]
    if not db_file.is_file() or sha256_file(db_file) != manifest["database"]["sha256"]:
        bad.append(manifest["database"]["file"])
    if bad:
        raise BackupError(f"checksums do not match for {len(bad)} files, e.g. {bad[0]}")
    return manifest, db_file


def restore_backup(archive, data_dir, database_url):
    """Restore into an empty data folder and database, then verify; return the counts."""
    data_dir = Path(data_dir).resolve()
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: restore only into an empty data folder")
    database = Database(database_url)
    if database.dialect == "sqlite" and Path(database.sqlite_path).exists():
        raise BackupError(f"{database.sqlite_path} already exists: restore into a new database")
    with tempfile.TemporaryDirectory(prefix="phopy-restore-") as tmp:
        manifest, db_file = _extract(archive, tmp)
        if manifest["dialect"] != database.dialect:
            raise BackupError(f"this backup is of a {manifest['dialect']} database, "
                              f"not {database.dialect}")
        if database.dialect == "postgresql":
            conn = database.connect()
            try:
                if not backup_db.is_empty(conn):
                    raise BackupError("the target database is not empty")
            finally:
                conn.close()
        data_dir.mkdir(parents=True, exist_ok=True)
        if (Path(tmp) / "files").exists():
            shutil.copytree(Path(tmp) / "files", data_dir, dirs_exist_ok=True)
        if database.dialect == "sqlite":
            shutil.copy2(db_file, database.sqlite_path)
        else:
            backup_db.pg_restore(database, db_file)
    return verify(manifest, data_dir, database)


def verify(manifest, data_dir, database):
    """Counts equal the manifest's, every file matches, every photo has its original."""
    conn = database.connect()
    try:
        counts = backup_db.table_counts(conn)
        keys = backup_db.photo_keys(conn)
    finally:
        conn.close()
    if counts != manifest["counts"]:
        raise BackupError(f"row counts differ: manifest {manifest['counts']}, restored {counts}")
    bad = [n for n, d in manifest["files"].items()
           if not (data_dir / n).is_file() or sha256_file(data_dir / n) != d]
    missing = [k for k in keys if not (data_dir / k).is_file()]
    if bad or missing:
        raise BackupError(f"{len(bad)} files differ and {len(missing)} photos lack their file")
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m phopy.backup", description=__doc__.split(
        "\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="back up the database and data folder")
    create.add_argument("--out", default="backups", help="folder for the archive")
    restore = sub.add_parser("restore", help="restore into an empty data folder and database")
    restore.add_argument("archive")
    args = parser.parse_args(argv)
    data_dir, database_url = settings()
    try:
        if args.command == "create":
            print(create_backup(data_dir, database_url, args.out))
        else:
            counts = restore_backup(args.archive, data_dir, database_url)
            print("restored and verified: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    except (BackupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
