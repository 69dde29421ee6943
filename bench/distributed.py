"""Distributed set-up, in one run on the same photos (``bench/distributed.sh``):

1. indexing one event with the embedded runner (``flask run-worker``) vs a
   Celery worker (``JOB_RUNNER=celery``, one solo worker) — both on
   PostgreSQL, each from enqueue to ``completed``, alternated; the ratio is
   Celery / embedded (target <= 1.1);
2. selfie search p50/p95 with 4 gunicorn workers on PostgreSQL under N
   concurrent clients.

Needs ``PHOPY_TEST_PG_ADMIN_URL`` and ``PHOPY_TEST_REDIS_URL`` (the wrapper
script starts throwaway servers). Writes ``bench/distributed.json`` and the
"Distributed" section of ``bench/RESULTS.md``.
"""
import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import uuid
from pathlib import Path

from bench.http_search import _free_port, _post_selfies, _wait_for
from bench.latency import percentiles

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START, END = "<!-- distributed -->", "<!-- /distributed -->"


def pick_photos(faces_dir, persons):
    """Event photos (group photos + LFW people) and one held-out selfie per person."""
    photos = sorted((faces_dir / "group_photos").glob("*.jpg"))
    selfies = []
    for folder in sorted((faces_dir / "lfw_4plus").iterdir())[:persons]:
        images = sorted(folder.glob("*.jpg"))
        selfies.append(images[0])
        photos += images[1:4]
    return photos, selfies


def pg_database(admin_url, name):
    import psycopg2
    raw = psycopg2.connect(admin_url)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {name}")
    raw.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def settings(data_dir, url, **extra):
    base = {"DATABASE_URL": url, "PHOPY_DATA_DIR": str(data_dir), "SECRET_KEY": "bench",
            "LOG_DIR": str(Path(data_dir) / "logs"), "INDEX_WORKERS": "2",
            "TASK_POLL_SECONDS": "0.2", "REDIS_URL": os.environ["PHOPY_TEST_REDIS_URL"],
            "RATELIMIT_ENABLED": "0", "JOB_SCHEDULE": "0", "TASK_PRUNE_HOURS": "0"}
    base.update({k: str(v) for k, v in extra.items()})
    return base


def make_event(config, photos):
    """Tables, a photographer and an event holding ``photos`` (not yet indexed)."""
    from phopy import create_app
    from phopy.data import get_database
    from phopy.extensions import get_storage
    from phopy.services import accounts, events
    from phopy.services import photos as photos_svc
    from phopy.sources import UploadSource
    app = create_app(config)
    get_database(app).init_schema()
    conn = get_database(app).connect()
    owner = accounts.register(conn, "bench@example.com", "bench-pass-1")
    event = events.create_event(conn, get_storage(app), owner["id"], "Bench",
                                base_url="http://bench")
    photos_svc.import_items(conn, get_storage(app), event["id"],
                            UploadSource([(p.name, p.read_bytes()) for p in photos]).items(),
                            max_bytes=app.config["MAX_PHOTO_BYTES"])
    conn.close()
    return app, event


def start(cmd, env, log, ready, timeout=120):
    out = open(log, "w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while ready not in Path(log).read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{cmd[0]} did not start: {Path(log).read_text()[-2000:]}")
        time.sleep(0.2)
    return proc


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def index_once(mode, photos, workdir, n):
    """Seconds from enqueue to completed for one event, with ``mode``'s runner."""
    from phopy.data import get_database
    from phopy.jobs import queue
    from phopy.services import indexing
    data_dir = workdir / f"{mode}-{n}"
    url = pg_database(os.environ["PHOPY_TEST_PG_ADMIN_URL"], f"bench_{mode}_{n}")
    queue_name = f"bench-{uuid.uuid4().hex[:6]}"
    runner = "celery" if mode == "celery" else "none"
    env_settings = settings(data_dir, url, JOB_RUNNER=runner, CELERY_QUEUE=queue_name)
    config = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "LOG_DIR": str(data_dir / "logs"),
              "SECRET_KEY": "bench", "JOB_RUNNER": runner, "CELERY_QUEUE": queue_name,
              "REDIS_URL": env_settings["REDIS_URL"], "RATELIMIT_ENABLED": False,
              "JOB_SCHEDULE": False, "TASK_PRUNE_HOURS": 0, "INDEX_WORKERS": 2}
    app, event = make_event(config, photos)
    env = dict(os.environ, **env_settings)
    if mode == "celery":
        proc = start([sys.executable, "-m", "celery", "-A", "phopy.jobs.worker", "worker", "--pool=solo",
                      "-Q", f"{queue_name},{queue_name}.heavy", "--loglevel=INFO"],
                     env, data_dir / "worker.log", "ready.")
    else:
        proc = start([str(BIN / "flask"), "--app", "app", "run-worker"], env,
                     data_dir / "worker.log", "waiting for tasks")
    try:
        conn = get_database(app).connect()
        t0 = time.perf_counter()
        task = indexing.enqueue_indexing(conn, event["id"])
        while True:
            row = conn.one("SELECT status, progress, total FROM tasks WHERE id = ?",
                           (task["id"],))
            if row["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        faces = conn.scalar("SELECT COUNT(*) FROM faces")
        conn.close()
        if row["status"] != "completed":
            raise RuntimeError(f"{mode} indexing failed")
        return {"seconds": seconds, "photos": row["total"], "faces": faces, "url": url,
                "event_id": event["id"], "data_dir": str(data_dir)}
    finally:
        stop(proc)
        if mode == "celery":
            queue.remove_dispatcher(app.extensions["celery_dispatch"])


def search_load(run, selfies, clients, requests_total):
    """p50/p95 of selfie search with 4 gunicorn workers under ``clients`` threads."""
    env = dict(os.environ, **settings(run["data_dir"], run["url"], JOB_RUNNER="none"))
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "4", "--threads", "4", "--bind",
         f"127.0.0.1:{port}", "--timeout", "120", "phopy.wsgi:app"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        _wait_for(port, server, timeout=120)
        url = f"http://127.0.0.1:{port}/api/events/{run['event_id']}/search"
        for selfie in selfies[:8]:  # warm every worker: models and the event's index
            _post_selfies(url, [selfie], timeout=120)
        seconds, found, errors, no_face = [], [], [], []
        lock, counter = threading.Lock(), iter(range(requests_total))

        def client():
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                try:
                    reply = _post_selfies(url, [selfies[i % len(selfies)]], timeout=120)
                    found.append(len(reply.get("photos", [])))
                except urllib.error.HTTPError as exc:
                    if exc.code != 422:  # 422: no face in that selfie, a normal answer
                        errors.append(repr(exc)[:200])
                        continue
                    no_face.append(1)
                except Exception as exc:  # counted, not hidden
                    errors.append(repr(exc)[:200])
                    continue
                seconds.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        return dict(percentiles(seconds), max_ms=round(max(seconds) * 1000, 1), clients=clients, requests=requests_total,
                    errors=len(errors), error_sample=errors[:3], no_face_answers=len(no_face),
                    throughput_per_s=round(len(seconds) / wall, 2),
                    mean_photos_returned=round(statistics.mean(found), 2) if found else 0)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def render(results):
    idx, s = results["indexing"], results["search"]
    lines = [START, "## Distributed: embedded runner vs Celery, search on PostgreSQL", "",
             f"Run {results['when']} on {results['cpu']} ({results['cores']} cores, shared "
             "with other work: reduced sizes). `bench/distributed.sh "
             f"{results['args']}`; figures in `bench/distributed.json`.", "",
             f"Indexing one event of {idx['photos']} photos ({idx['faces']} faces; group photos "
             "and LFW people) on PostgreSQL, enqueue to completed, INDEX_WORKERS=2, "
             "runs alternated:", "",
             "| runner | runs (s) | median (s) |", "|---|---|---|"]
    for mode in ("embedded", "celery"):
        runs = idx[mode]
        lines.append(f"| {mode} | {', '.join(f'{x:.1f}' for x in runs)} | "
                     f"{statistics.median(runs):.1f} |")
    lines += ["", f"**Celery / embedded = {idx['ratio']:.3f}** (target <= 1.1).", "",
              f"Selfie search, 4 gunicorn workers × 4 threads on PostgreSQL, {s['clients']} "
              f"concurrent clients, {s['requests']} one-selfie searches:", "",
              "| p50 (ms) | p95 (ms) | max (ms) | throughput (/s) | errors | "
              "no-face answers (422) |",
              "|---|---|---|---|---|---|",
              f"| {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['max_ms']:.0f} | "
              f"{s['throughput_per_s']} | {s['errors']} | {s.get('no_face_answers', 0)} |", "",
              "On 2 shared cores, 50 clients queue behind 2 cores' worth of face "
              "detection: p95 is mostly waiting time, and grows with clients / cores.",
              END]
    return "\n".join(lines) + "\n"


def write(results):
    (REPO / "bench" / "distributed.json").write_text(json.dumps(results, indent=1))
    path = REPO / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    if START in text:
        text = text[:text.index(START)] + text[text.index(END) + len(END) + 1:]
    path.write_text(text.rstrip("\n") + "\n\n" + render(results))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=20, help="LFW people in the event")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each runner")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    faces_dir = Path(os.environ.get("PHOPY_FACES_DIR", REPO.parent / "shared/datasets/faces"))
    photos, selfies = pick_photos(faces_dir, args.persons)
    results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "cpu": cpu_model(), "cores": os.cpu_count(),
               "args": " ".join(argv if argv is not None else sys.argv[1:])}
    runs = {"embedded": [], "celery": []}
    last = None
    with tempfile.TemporaryDirectory(prefix="phopy-bench-dist-") as tmp:
        for n in range(args.rounds):
            for mode in ("embedded", "celery") if n % 2 == 0 else ("celery", "embedded"):
                last = index_once(mode, photos, Path(tmp), n)
                runs[mode].append(round(last["seconds"], 2))
                print(f"{mode} run {n}: {last['seconds']:.1f}s", flush=True)
        results["indexing"] = dict(runs, photos=last["photos"], faces=last["faces"],
                                   ratio=round(statistics.median(runs["celery"])
                                               / statistics.median(runs["embedded"]), 3))
        results["search"] = search_load(last, selfies, args.clients, args.requests)
    print(json.dumps(results, indent=1))
    write(results)


if __name__ == "__main__":
    main()
