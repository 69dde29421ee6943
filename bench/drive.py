"""Drive import + indexing vs local-folder indexing of the same photos, in one run.

    .venv/bin/python -m bench.drive [--folder DIR] [--latency-ms 50] [--bandwidth-mbps 20]

The fake Google server (tests/fakes/google_server.py) serves the folder with the given
latency per request and bandwidth cap; Phopy's in-process runner (both lanes, the face
pool) runs the Drive sync and the indexing it queues. The local run imports the same
files with FolderSource and indexes them with the same runner. Prints a JSON summary
and the rate ratio (target >= 0.9).
"""
import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

from bench.dataset import resolve_faces_dir


def _app(tmp, **extra):
    from phopy import create_app
    from tests.conftest import make_test_config
    return create_app(make_test_config(Path(tmp), INDEX_WORKERS=0, TASK_POLL_SECONDS=0.2,
                                       DRIVE_SYNC_MINUTES=0, JOB_SCHEDULE=False, **extra))


def _wait_indexed(app, event_id, n, timeout=3600):
    from phopy.data import get_database
    conn = get_database(app).connect()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if conn.scalar("SELECT COUNT(*) FROM photo_checkpoints WHERE event_id = ?",
                           (event_id,)) >= n:
                return
            time.sleep(0.1)
        raise TimeoutError("indexing did not finish")
    finally:
        conn.close()


def run_local(folder, n):
    from phopy.data import get_database
    from phopy.extensions import get_storage
    from phopy.jobs.setup import make_runner
    from phopy.services import indexing, photos
    from phopy.sources import FolderSource
    from tests.conftest import make_event, make_photographer
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(tmp)
        owner = make_photographer(app)
        event = make_event(app, owner["id"], "Local bench")
        runner = make_runner(app).start()
        try:
            started = time.monotonic()
            conn = get_database(app).connect()
            photos.import_items(conn, get_storage(app), event["id"], FolderSource(folder).items(),
                                max_bytes=app.config["MAX_PHOTO_BYTES"])
            indexing.enqueue_indexing(conn, event["id"])
            conn.close()
            _wait_indexed(app, event["id"], n)
            return time.monotonic() - started
        finally:
            runner.stop()


def run_drive(folder, n, latency_ms, bandwidth_mbps):
    from phopy.data import get_database
    from phopy.jobs.setup import make_runner
    from phopy.google import sync as drive, accounts as google_accounts
    from tests.conftest import make_event, make_photographer
    from tests.fakes.google_fixture import FakeGoogle
    from tests.google.conftest import grant_drive
    google = FakeGoogle(folders=[folder])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = _app(tmp, **google.config())
            owner = make_photographer(app)
            grant_drive(app, google, owner["id"])
            event = make_event(app, owner["id"], "Drive bench")
            google.call("POST", "/_fake/settings", {
                "latency_ms": latency_ms, "bandwidth": int(bandwidth_mbps * 1024 * 1024)})
            runner = make_runner(app).start()
            try:
                started = time.monotonic()
                conn = get_database(app).connect()
                client = google_accounts.drive_client(conn, app.config, owner["id"])
                drive.link_folder(conn, app.config, client, event["id"], owner["id"],
                                  google.folder_id(folder))
                conn.close()
                _wait_indexed(app, event["id"], n)
                return time.monotonic() - started, google.state()["counts"]
            finally:
                runner.stop()
    finally:
        google.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", default=None, help="default: faces/group_photos")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--bandwidth-mbps", type=float, default=20)
    args = parser.parse_args(argv)
    folder = Path(args.folder or resolve_faces_dir() / "group_photos")
    with tempfile.TemporaryDirectory() as tmp:  # photos only, so both runs see the same files
        src = Path(tmp) / folder.name
        src.mkdir()
        files = [p for p in sorted(folder.iterdir())
                 if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
        for p in files:
            shutil.copy(p, src / p.name)
        n = len(files)
        size = sum(p.stat().st_size for p in files)
        local_s = run_local(src, n)
        drive_s, counts = run_drive(src, n, args.latency_ms, args.bandwidth_mbps)
    result = {"photos": n, "megabytes": round(size / 1e6, 1), "latency_ms": args.latency_ms,
              "bandwidth_mbps": args.bandwidth_mbps, "local_seconds": round(local_s, 2),
              "drive_seconds": round(drive_s, 2),
              "local_photos_per_s": round(n / local_s, 3),
              "drive_photos_per_s": round(n / drive_s, 3),
              "ratio": round(local_s / drive_s, 3), "target": 0.9,
              "drive_requests": {"list": counts["list"], "media": sum(counts["media"].values())},
              "machine": f"{platform.processor() or platform.machine()}, "
                         f"{__import__('os').cpu_count()} cores"}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
