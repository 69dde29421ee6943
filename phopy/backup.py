"""Backups while the app runs, and restores that verify them.

    python -m phopy.backup create [--out DIR]          (scripts/backup.sh)
    python -m phopy.backup restore ARCHIVE             (scripts/restore.sh)

Settings come from the environment / .env as for the app (PHOPY_DATA_DIR,
DATABASE_URL). A backup is one dated ``phopy-backup-<UTC time>.tar.gz`` with:
the database (SQLite's online backup API, or ``pg_dump`` of one snapshot), the
data folder's files (originals, thumbnails, QR codes) and ``manifest.json``
with row counts and a SHA-256 per file. The database is copied first: photos
are stored on disk before their row, so every photo in the copy has its file.
Restore only writes into an empty data folder and an empty database. It
unpacks into a private (0700) folder beside the target, refuses any archive
member or manifest entry that would land outside it, checks every checksum,
every count and that every photo's file is there, and only then renames the
folder into place: a restore that fails leaves nothing behind. Archives are
written 0600 whatever the umask (they hold password hashes and face data).
"""
import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

from phopy.data import Database
from phopy.data import backup as backup_db

log = logging.getLogger(__name__)
FORMAT = 1
SKIP_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal")
DB_FILES = {"sqlite": "db/phopy.db", "postgresql": "db/phopy.pgdump"}
# What a truncated, damaged or foreign file raises while it is read as a .tar.gz.
UNREADABLE_ARCHIVE = (tarfile.TarError, EOFError, zlib.error, UnicodeDecodeError)


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
                and not path.name.startswith(".health-") \
                and not any(part.startswith(".metrics-")
                            for part in path.relative_to(data_dir).parts):
            yield path.relative_to(data_dir)


def create_backup(data_dir, database_url, out_dir):
    """Write one dated archive into ``out_dir``; return its path."""
    data_dir, out_dir = Path(data_dir).resolve(), Path(out_dir).resolve()
    database = Database(database_url)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
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
        partial.unlink(missing_ok=True)
        # 0600 from the first byte, whatever the umask: password hashes, face data, keys.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                for name in ("manifest.json", "db", "files"):
                    if (stage / name).exists():
                        tar.add(stage / name, arcname=name)
            os.replace(partial, archive)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    log.info("backup %s: %s", archive, counts)
    return archive


def _safe_relative(name, what):
    """A manifest/archive path as a relative path that stays inside its folder."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        raise BackupError(f"the manifest names a bad {what} path: {name!r}")
    parts = Path(name).parts
    if Path(name).is_absolute() or any(p in ("..", ".", "") for p in parts) \
            or name != Path(name).as_posix():
        raise BackupError(f"the manifest names a {what} outside the backup: {name!r}")
    return Path(name)


def _read_manifest(root, dialect):
    """The unpacked archive's manifest, every path in it checked; BackupError otherwise."""
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError:
        raise BackupError("the archive has no manifest.json: not a Phopy backup") from None
    except (ValueError, OSError) as exc:
        raise BackupError(f"the archive's manifest.json is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or not isinstance(manifest.get("files"), dict) \
            or not isinstance(manifest.get("counts"), dict) \
            or not isinstance(manifest.get("database"), dict):
        raise BackupError("the archive's manifest.json is not one of a Phopy backup "
                          f"(format {FORMAT})")
    if manifest.get("dialect") != dialect:
        raise BackupError(f"this backup is of a {manifest.get('dialect')} database, "
                          f"not {dialect}")
    if manifest["database"].get("file") != DB_FILES[dialect]:
        raise BackupError("the manifest names a database file outside the backup: "
                          f"{manifest['database'].get('file')!r}")
    for name, digest in manifest["files"].items():
        _safe_relative(name, "file")
        if not isinstance(digest, str):
            raise BackupError(f"the manifest has no checksum for {name!r}")
    return manifest


def _unpack(archive, into):
    """Extract only plain files and folders with safe names into ``into``."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                if not (member.isfile() or member.isdir()):
                    raise BackupError(f"the archive holds {member.name!r}, which is not a "
                                      "plain file or folder: not a Phopy backup")
                _safe_relative(member.name.rstrip("/"), "member")
            tar.extractall(into, members=members, filter="data")
    except UNREADABLE_ARCHIVE as exc:
        raise BackupError(f"{archive} is truncated, damaged or not a Phopy backup "
                          f"(.tar.gz): {exc or type(exc).__name__}") from None


def _check_files(root, manifest):
    """Every file the manifest names is there with its checksum, and nothing else is."""
    files = root / "files"
    bad = [name for name, digest in manifest["files"].items()
           if not (files / name).is_file() or sha256_file(files / name) != digest]
    db_file = root / manifest["database"]["file"]
    if not db_file.is_file() or sha256_file(db_file) != manifest["database"].get("sha256"):
        bad.append(manifest["database"]["file"])
    if bad:
        raise BackupError(f"checksums do not match for {len(bad)} files, e.g. {bad[0]}")
    named = set(manifest["files"])
    extra = [p.relative_to(files).as_posix() for p in files.rglob("*")
             if p.is_file() and p.relative_to(files).as_posix() not in named] \
        if files.is_dir() else []
    if extra:
        raise BackupError(f"the archive holds {len(extra)} files its manifest does not name, "
                          f"e.g. {extra[0]}")
    return db_file


def _make_private(root):
    """Folders 0700, files 0600 (the archive may carry other modes)."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


def restore_backup(archive, data_dir, database_url):
    """Restore into an empty data folder and database, then verify; return the counts.

    Everything is unpacked and checked in a private folder beside ``data_dir``,
    which is renamed into place only once the restore is verified.
    """
    data_dir = Path(data_dir).resolve()
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"{data_dir} is not empty: restore only into an empty data folder")
    database = Database(database_url)
    db_path = Path(database.sqlite_path).resolve() if database.dialect == "sqlite" else None
    if db_path is not None and db_path.exists():
        raise BackupError(f"{db_path} already exists: restore into a new database")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restore-", dir=data_dir.parent))
    try:
        _unpack(archive, stage)
        manifest = _read_manifest(stage, database.dialect)
        db_file = _check_files(stage, manifest)
        new_data = stage / "files"
        new_data.mkdir(exist_ok=True)
        if db_path is not None:
            return _restore_sqlite(manifest, db_file, new_data, data_dir, db_path)
        return _restore_postgresql(manifest, db_file, new_data, data_dir, database)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _restore_sqlite(manifest, db_file, new_data, data_dir, db_path):
    inside = data_dir in db_path.parents
    staged_db = new_data / db_path.relative_to(data_dir) if inside \
        else new_data.parent / "phopy.db.restored"
    if inside and staged_db.exists():
        raise BackupError(f"the backup's files include {staged_db.name}, the database's name")
    staged_db.parent.mkdir(parents=True, exist_ok=True)
    os.replace(db_file, staged_db)
    _make_private(new_data)
    staged_db.chmod(0o600)
    counts = verify(manifest, new_data, Database(f"sqlite:///{staged_db}"))
    if not inside:  # the database lives elsewhere: a temp copy beside it, renamed last
        db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_db = tempfile.mkstemp(prefix=f".{db_path.name}.restore-", dir=db_path.parent)
        os.close(fd)
        try:
            shutil.copyfile(staged_db, tmp_db)
            os.replace(new_data, data_dir)
            os.replace(tmp_db, db_path)
        finally:
            Path(tmp_db).unlink(missing_ok=True)
    else:
        for suffix in ("-wal", "-shm"):  # left by verify's connection, if any
            Path(str(staged_db) + suffix).unlink(missing_ok=True)
        os.replace(new_data, data_dir)
    return counts


def _restore_postgresql(manifest, db_file, new_data, data_dir, database):
    conn = database.connect()
    try:
        if not backup_db.is_empty(conn):
            raise BackupError("the target database is not empty")
    finally:
        conn.close()
    _make_private(new_data)
    try:
        backup_db.pg_restore(database, db_file)  # one transaction: all or nothing
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"pg_restore failed (exit {exc.returncode}); the database is "
                          "unchanged") from None
    try:
        counts = verify(manifest, new_data, database)
    except BackupError:
        backup_db.drop_restored(database)  # back to the empty database we were given
        raise
    os.replace(new_data, data_dir)
    return counts


def verify(manifest, data_dir, database):
    """Counts equal the manifest's, every file matches, every photo has its original."""
    try:
        conn = database.connect()
        try:
            counts = backup_db.table_counts(conn)
            keys = backup_db.photo_keys(conn)
        finally:
            conn.close()
    except Exception as exc:  # a damaged or foreign database file: say so in one line
        raise BackupError(f"the restored database cannot be read: {exc}") from None
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
    except subprocess.CalledProcessError as exc:
        print(f"error: {Path(exc.cmd[0]).name} failed with exit {exc.returncode}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
