"""Many machines, in one run (``bench/storage.sh``; issue 20's targets):

1. photos/s indexing one event with Celery workers on PostgreSQL + Redis: one
   worker with the file backend, one with S3 (SeaweedFS), N with S3, each worker
   its own process with its own data folder (the file backend: the web's folder,
   as one machine), one face process each (``INDEX_WORKERS``). Each run has its
   own database; a small warm-up event first, then the timed one, enqueue to
   ``completed``. Ratios: N workers / one (target >= 1.8 for two) and the cost
   of S3 against files for one worker (target <= 10%).
2. Six ``init-db`` at once on a new PostgreSQL database: how many succeed.
3. Two Celery beats with a 2 s periodic job: runs queued vs intervals elapsed.
4. Redis stopped: ``POST /auth/login`` and a selfie search answer (no 500).

Worker CPU time per photo (psutil, the workers and their children) and the
SeaweedFS process's are recorded too: on a loaded machine they move less than
wall time. Checks 2-4 are in ``bench.storage_checks``.

Needs ``PHOPY_TEST_PG_ADMIN_URL``, ``PHOPY_TEST_REDIS_URL`` and
``PHOPY_TEST_S3_*`` (the wrapper starts throwaway servers). Writes
``bench/results_storage.json`` and the "Many machines" section of
``bench/RESULTS.md``.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from bench.dataset import resolve_faces_dir
from bench.distributed import cpu_model, pg_database, start, stop
from bench.report import put_section
from bench.storage_checks import init_db_six, redis_down, two_beats

REPO = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
START, END = "<!-- storage:start -->", "<!-- storage:end -->"


def pick_photos(faces_dir, count, warm):
    """``count`` event photos (group and dlib photos, then LFW people) and ``warm``
    other LFW photos for the warm-up event."""
    photos = []
    for folder in ("group_photos", "dlib_faces", "face_recognition_examples"):
        photos += sorted((faces_dir / folder).glob("*.jpg"))
    lfw = [p for d in sorted((faces_dir / "lfw_4plus").iterdir()) if d.is_dir()
           for p in sorted(d.glob("*.jpg"))[:3]]
    unique, seen = [], set()
    for path in photos + lfw:  # an event keeps one copy of identical files
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append(path)
    photos = unique[:count]
    return photos, [p for p in unique[count:] if p in lfw][:warm]


def storage_settings(backend):
    if backend == "file":
        return {"STORAGE_BACKEND": "file"}
    return {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": os.environ["PHOPY_TEST_S3_ENDPOINT_URL"],
            "S3_BUCKET": os.environ["PHOPY_TEST_S3_BUCKET"],
            "S3_ACCESS_KEY": os.environ["PHOPY_TEST_S3_ACCESS_KEY"],
            "S3_SECRET_KEY": os.environ["PHOPY_TEST_S3_SECRET_KEY"], "S3_REGION": "us-east-1",
            "S3_PREFIX": f"bench-{uuid.uuid4().hex[:8]}", "S3_PRESIGN_SECONDS": 0}


def app_config(url, data_dir, **extra):
    config = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "LOG_DIR": str(data_dir / "logs"),
              "SECRET_KEY": "bench-secret", "RATELIMIT_ENABLED": False, "JOB_SCHEDULE": False,
              "TASK_PRUNE_HOURS": 0, "WTF_CSRF_ENABLED": False,
              "AUTO_INDEX": False}  # a worker's start would queue the bench's events itself
    config.update(extra)
    return config


def worker_env(config, data_dir):
    env = dict(os.environ, PHOPY_DATA_DIR=str(data_dir), LOG_DIR=str(data_dir / "logs"))
    env.update({k: str(v) for k, v in config.items() if k not in ("DATA_DIR", "LOG_DIR")})
    env.update({k: "1" if v is True else "0" for k, v in config.items() if isinstance(v, bool)})
    return env


def make_events(app, photo_sets):
    """A photographer and one event per photo set (imported, not yet indexed)."""
    from phopy.data import get_database
    from phopy.extensions import get_storage
    from phopy.jobs.checks import check_start
    from phopy.services import accounts, events
    from phopy.services import photos as photos_svc
    from phopy.sources import UploadSource
    get_database(app).init_schema()
    if app.config["STORAGE_BACKEND"] == "s3":
        get_storage(app).create_bucket()
    check_start(app, "web")  # records the data folder's id (file backend)
    conn = get_database(app).connect()
    try:
        owner = accounts.register(conn, "bench@example.com", "bench-pass-1")
        made = []
        for n, photos in enumerate(photo_sets):
            event = events.create_event(conn, get_storage(app), owner["id"], f"Bench {n}",
                                        base_url="http://bench")
            photos_svc.import_items(conn, get_storage(app), event["id"], UploadSource(
                [(p.name, p.read_bytes()) for p in photos]).items(),
                max_bytes=app.config["MAX_PHOTO_BYTES"])
            made.append(event)
        return made
    finally:
        conn.close()


def index_and_wait(conn, event_id, timeout=1800):
    """Queue the event's indexing; (seconds to completed, task row)."""
    from phopy.services import indexing
    t0 = time.perf_counter()
    task = indexing.enqueue_indexing(conn, event_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.one("SELECT * FROM tasks WHERE id = ?", (task["id"],))
        if row["status"] in ("completed", "failed"):
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    if row["status"] != "completed":
        raise RuntimeError(f"indexing ended {row['status']}: {row['error']}")
    return seconds, row


def cpu_seconds(procs):
    """User + system CPU seconds of ``procs`` (psutil processes) and their children."""
    total = 0.0
    for proc in procs:
        try:
            for one in [proc] + proc.children(recursive=True):
                times = one.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def s3_server():
    """The SeaweedFS process serving PHOPY_TEST_S3_ENDPOINT_URL, or None."""
    port = os.environ.get("PHOPY_TEST_S3_ENDPOINT_URL", "").rsplit(":", 1)[-1]
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "weed" and f"-s3.port={port}" in (proc.info["cmdline"] or []):
            return proc
    return None


def settle(conn, timeout=60):
    """Wait until no task is pending or running (spare helpers end at once)."""
    deadline = time.monotonic() + timeout
    while conn.scalar("SELECT COUNT(*) FROM tasks WHERE status IN ('pending', 'running')") \
            and time.monotonic() < deadline:
        time.sleep(0.1)


def run_indexing(backend, workers, photos, warm, tmp, n, args):
    """One run: ``workers`` Celery workers on ``backend``; photos/s of the timed event."""
    from phopy import create_app
    from phopy.data import get_database
    from phopy.jobs import queue
    url = pg_database(os.environ["PHOPY_TEST_PG_ADMIN_URL"], f"bench_storage_{n}")
    web_dir = tmp / f"run{n}-web"
    queue_name = f"bench-{uuid.uuid4().hex[:6]}"
    extra = dict(storage_settings(backend), JOB_RUNNER="celery", CELERY_QUEUE=queue_name,
                 REDIS_URL=os.environ["PHOPY_TEST_REDIS_URL"], INDEX_WORKERS=args.face_processes,
                 INDEX_BATCH_SIZE=args.batch)
    if args.helpers is not None:
        extra["INDEX_HELPERS"] = args.helpers
    config = app_config(url, web_dir, **extra)
    app = create_app(config)
    procs = []
    try:
        warm_event, event = make_events(app, [warm, photos])
        for i in range(workers):  # S3: a data folder of its own; file: the one machine's
            data_dir = web_dir if backend == "file" else tmp / f"run{n}-worker{i}"
            data_dir.mkdir(parents=True, exist_ok=True)
            procs.append(start([CELERY, "-A", "phopy.jobs.worker", "worker", "--pool=solo",
                                "-Q", f"{queue_name},{queue_name}.heavy", "-n",
                                f"w{i}-{n}@%h", "--loglevel=INFO"],
                               worker_env(config, data_dir), tmp / f"run{n}-w{i}.log",
                               "ready.", timeout=180))
        conn = get_database(app).connect()
        try:
            index_and_wait(conn, warm_event["id"])  # engines loaded, connections open
            settle(conn)
            load = os.getloadavg()[0]
            watched = [psutil.Process(p.pid) for p in procs]
            weed = s3_server() if backend == "s3" else None
            cpu0, weed0 = cpu_seconds(watched), cpu_seconds([weed] if weed else [])
            seconds, task = index_and_wait(conn, event["id"])
            cpu = cpu_seconds(watched) - cpu0
            weed_cpu = cpu_seconds([weed] if weed else []) - weed0
            settle(conn)
            by_pid = {}
            for row in conn.all(
                    "SELECT t.claimed_by, COUNT(*) AS n FROM photo_checkpoints c JOIN tasks t "
                    "ON t.id = c.task_id WHERE c.event_id = ? GROUP BY t.claimed_by",
                    (event["id"],)):
                pid = row["claimed_by"].split(":")[1]
                by_pid[pid] = by_pid.get(pid, 0) + row["n"]
            faces = conn.scalar("SELECT COUNT(*) FROM faces WHERE event_id = ?", (event["id"],))
            checkpoints = conn.scalar("SELECT COUNT(*) FROM photo_checkpoints WHERE "
                                      "event_id = ?", (event["id"],))
            errors = conn.scalar("SELECT COUNT(*) FROM photo_checkpoints WHERE "
                                 "event_id = ? AND status = 'error'", (event["id"],))
        finally:
            conn.close()
    finally:
        for proc in procs:
            stop(proc)
        if "celery_dispatch" in app.extensions:
            queue.remove_dispatcher(app.extensions["celery_dispatch"])
    if checkpoints != len(photos):
        raise RuntimeError(f"{checkpoints} checkpoints for {len(photos)} photos")
    return {"backend": backend, "workers": workers, "seconds": round(seconds, 2),
            "photos": len(photos), "faces": faces, "photo_errors": errors,
            "photos_per_s": round(len(photos) / seconds, 3),
            "photos_by_worker": sorted(by_pid.values(), reverse=True),
            "worker_cpu_ms_per_photo": round(1000 * cpu / len(photos), 1),
            "s3_server_cpu_ms_per_photo": round(1000 * weed_cpu / len(photos), 1),
            "load_before": round(load, 2), "url": url, "config": config,
            "event_id": event["id"], "selfie": str(photos[0])}


def render(results):
    k = results["workers"]
    command = ("bench/storage.sh " + results["args"]).strip()
    lines = [START, "## Many machines (issue 20: `bench/storage.sh`)", "",
             f"Run {results['when']} on {results['cpu']} ({results['cores']} cores, shared with "
             f"other work; load average {results['load']['before']} before, "
             f"{results['load']['after']} after). `{command}`; "
             "figures in `bench/results_storage.json`.", "",
             f"Indexing one event of {results['photos']} photos on PostgreSQL + Redis, Celery "
             f"workers (solo pool, {results['face_processes']} face process each), each worker "
             "its own process and data folder (S3: SeaweedFS on this machine); enqueue to "
             "completed after a warm-up event:", "",
             "| storage | workers | seconds | photos/s | photos per worker | worker CPU "
             "ms/photo | S3 server CPU ms/photo | load before |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results["indexing"]:
        lines.append(f"| {r['backend']} | {r['workers']} | {r['seconds']:.1f} | "
                     f"{r['photos_per_s']:.2f} | {', '.join(map(str, r['photos_by_worker']))} | "
                     f"{r['worker_cpu_ms_per_photo']:.0f} | "
                     f"{r['s3_server_cpu_ms_per_photo']:.0f} | {r['load_before']} |")
    ratio, cost = results["ratio_workers"], results["s3_cost"]
    medians = ", ".join(f"{name} {sec:.1f} s" for name, sec in results["median_seconds"].items())
    lines += ["", f"Medians: {medians}. **{k} workers / one worker (S3) = {ratio:.2f}×** "
              f"(target ≥ 1.8 for two); **S3 against files, one worker: {cost * 100:+.1f}% "
              f"time** (target ≤ 10%); in the workers' CPU time per photo, which the "
              f"machine's other load does not stretch: {results['s3_cpu_cost'] * 100:+.1f}%.",
              "", results["note"], "",
              "| check | result | target |", "|---|---|---|"]
    init, beats, down = results["init_db"], results["beats"], results["redis_down"]
    lines += [f"| six `init-db` at once, new PostgreSQL database | {init['succeeded']} of 6 "
              "succeed | 6 |",
              f"| two beats, a 2 s job, {beats['watched_s']} s | {beats['runs']} runs queued "
              f"({beats['intervals']} intervals) | one per interval |",
              f"| Redis stopped: `POST /auth/login` (right, wrong password), selfie search | "
              f"{down['login']}, {down['wrong_password']}, {down['search']} "
              f"({down['search_photos']} photos found) | no 500 |", END]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=200, help="photos in the timed event")
    parser.add_argument("--workers", type=int, default=2, help="workers of the shared run")
    parser.add_argument("--face-processes", type=int, default=1,
                        help="INDEX_WORKERS of each worker")
    parser.add_argument("--batch", type=int, default=16, help="INDEX_BATCH_SIZE")
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs of each set-up, in mirrored order (medians are compared)")
    parser.add_argument("--helpers", type=int, default=None,
                        help="INDEX_HELPERS (default: the setting's own default)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    photos, warm = pick_photos(resolve_faces_dir(), args.photos, 2 * args.workers)
    results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu_model(),
               "cores": os.cpu_count(), "args": " ".join(argv if argv is not None
                                                         else sys.argv[1:]),
               "photos": len(photos), "workers": args.workers,
               "face_processes": args.face_processes,
               "load": {"before": round(os.getloadavg()[0], 2)}}
    with tempfile.TemporaryDirectory(prefix="phopy-bench-storage-") as tmp:
        tmp = Path(tmp)
        plan = [("file", 1), ("s3", 1), ("s3", args.workers)]
        plan = [step for n in range(args.rounds) for step in (plan if n % 2 == 0
                                                               else plan[::-1])]
        runs = []
        for n, (backend, workers) in enumerate(plan):
            run = run_indexing(backend, workers, photos, warm, tmp, n, args)
            print(f"{backend} x{workers}: {run['seconds']:.1f}s, {run['photos_per_s']:.2f} "
                  f"photos/s, by worker {run['photos_by_worker']}", flush=True)
            runs.append(run)
        results["redis_down"] = redis_down(runs[-1])
        results["init_db"] = init_db_six(tmp)
        results["beats"] = two_beats(tmp)
    results["indexing"] = [{k: v for k, v in r.items() if k not in ("url", "config", "selfie",
                                                                    "event_id")} for r in runs]

    def median_seconds(backend, workers):
        return statistics.median(r["seconds"] for r in runs
                                 if (r["backend"], r["workers"]) == (backend, workers))
    one_file, one_s3 = median_seconds("file", 1), median_seconds("s3", 1)
    many = median_seconds("s3", args.workers)
    results["median_seconds"] = {"file x1": one_file, "s3 x1": one_s3,
                                 f"s3 x{args.workers}": many}
    results["ratio_workers"] = round(one_s3 / many, 3)  # photos/s: same photos each run
    results["s3_cost"] = round(one_s3 / one_file - 1, 3)

    def median_cpu(backend):
        return statistics.median(r["worker_cpu_ms_per_photo"] for r in runs
                                 if (r["backend"], r["workers"]) == (backend, 1))
    results["s3_cpu_cost"] = round(median_cpu("s3") / median_cpu("file") - 1, 3)
    results["load"]["after"] = round(os.getloadavg()[0], 2)
    results["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results["note"] = (
        f"Every worker here shares this machine's {os.cpu_count()} cores with PostgreSQL, "
        "Redis, SeaweedFS, the bench and other work, so N workers can reach at most about "
        "min(N, free cores)× one; on a machine with a core per face process and the "
        "services elsewhere, run `bench/storage.sh --photos 300 --workers 4`.")
    print(json.dumps(results, indent=1))
    if not args.no_write:
        (REPO / "bench" / "results_storage.json").write_text(json.dumps(results, indent=1) + "\n")
        put_section(REPO / "bench" / "RESULTS.md", START, END, render(results))


if __name__ == "__main__":
    main()
