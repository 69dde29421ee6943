"""The venue rush (issue 12): today's code against this tree, in one run, as ratios.

1. Selfie analysis CPU: decode, detect and encode one 3000x4000 selfie, made from
   every photo of ``face_recognition_examples`` (knn photos included), with the
   faces each tree finds.
2. A crowd: N concurrent clients x M one-selfie API searches, all from one address,
   with the default limits on, against gunicorn as each tree's ``start.sh`` runs
   it; meanwhile a plain page is fetched every 0.25 s.
3. Memory: a worker (and its children) before and after searches with a
   12000x12000 PNG selfie.

"Today" is a git ref (default: the commit this work started from), unpacked
with ``git archive`` into a temp folder and run with the same virtualenv.

    .venv/bin/python -m bench.venue [--clients 50 --searches 4 --bombs 20 --today-bombs 3]
"""
import argparse
import io
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import requests
from PIL import Image, ImageOps

from bench.dataset import REPO_ROOT

TODAY_REF = "714faa7"
BIN = Path(sys.executable).parent
OUT = REPO_ROOT / "bench" / "venue.json"
RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
START, END = "<!-- venue:start -->", "<!-- venue:end -->"

CPU_SNIPPET = r"""
import json, sys, time
from pathlib import Path
from phopy.faces import EngineSettings, FaceEngine
try:
    from phopy.faces import selfie_pool
    selfie_pool._init_worker(EngineSettings())
    run = selfie_pool._analyze_in_worker          # what a selfie worker runs
except ImportError:
    engine = FaceEngine(EngineSettings()); engine.load()
    run = engine.analyze_selfie                   # what the web thread ran
files = sorted(Path(sys.argv[1]).glob("*.jpg"))
run(files[0].read_bytes())  # warm
out = {}
for path in files:
    data = path.read_bytes()
    started = time.process_time()
    faces = run(data)
    out[path.name] = {"cpu": time.process_time() - started, "faces": len(faces),
                      "found": [{"box": [int(v) for v in f.box],
                                 "encoding": None if f.encoding is None
                                 else [float(v) for v in f.encoding]} for f in faces]}
print(json.dumps(out))
"""


def phone_selfies(faces_dir, folder):
    """Every example photo as a 3000x4000 phone JPEG (padded, never cropped)."""
    root = faces_dir / "face_recognition_examples"
    sources = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    folder.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(sources):
        image = ImageOps.pad(Image.open(path).convert("RGB"), (3000, 4000), color=(120, 120, 120))
        image.save(folder / f"{i:02d}-{path.stem}.jpg", "JPEG", quality=90)
    return sorted(folder.glob("*.jpg"))


def unpack_today(ref, folder):
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", ref], check=True,
                             capture_output=True).stdout
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def selfie_cpu(tree, selfie_dir):
    done = subprocess.run([sys.executable, "-c", CPU_SNIPPET, str(selfie_dir)], cwd=tree,
                          env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def family_rss(pid):
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def threads_of(tree):
    match = re.search(r"WEB_THREADS:-(\d+)", (tree / "start.sh").read_text())
    return match.group(1) if match else "8"


class Served:
    """gunicorn as ``start.sh`` runs it, for one tree on a copy of the data."""

    def __init__(self, tree, data_dir, port):
        self.tree, self.port = tree, port
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SEARCH_", "RATELIMIT", "LOGIN_RATE"))}
        env.update(PHOPY_DATA_DIR=str(data_dir), SECRET_KEY="venue-bench", DATABASE_URL="",
                   PUBLIC_BASE_URL=self.url, JOB_RUNNER="thread", LOG_DIR=str(data_dir / "logs"),
                   PYTHONPATH=str(tree))
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--threads", threads_of(tree), "--timeout", "120", "phopy.wsgi:app"],
            cwd=tree, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError(f"{tree} did not start")

    def worker(self):
        return psutil.Process(self.process.pid).children()[0].pid

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def make_event(data_dir, faces_dir):
    """An event of the knn photos, indexed by this tree's code."""
    from phopy import create_app
    from phopy.data import get_database
    from phopy.extensions import get_storage
    from phopy.jobs.setup import make_runner
    from phopy.services import accounts, events, indexing, photos
    from phopy.sources import FolderSource
    app = create_app({"DATA_DIR": str(data_dir), "SECRET_KEY": "venue-bench", "TESTING": True,
                      "JOB_RUNNER": "none", "DATABASE_URL": None, "LOG_DIR": str(data_dir)})
    conn = get_database(app).connect()
    owner = accounts.register(conn, "venue@example.com", "venue-bench-1")
    event = events.create_event(conn, get_storage(app), owner["id"], "Venue rush",
                                base_url="http://127.0.0.1", is_listed=True)
    folder = faces_dir / "face_recognition_examples" / "knn_examples"
    photos.import_items(conn, get_storage(app), event["id"], FolderSource(folder).items(),
                        max_bytes=50 * 2**20)
    indexing.enqueue_indexing(conn, event["id"])
    make_runner(app).run_until_idle()
    conn.close()
    return event


def search(session, url, selfie):
    started = time.monotonic()
    try:
        response = session.post(url, files={"selfies": ("me.jpg", selfie)}, timeout=180)
    except requests.RequestException as exc:
        return {"status": "error", "seconds": time.monotonic() - started, "detail": str(exc)}
    body = response.json() if response.headers.get("Content-Type", "").startswith(
        "application/json") else {}
    return {"status": response.status_code, "seconds": time.monotonic() - started,
            "photos": sorted(p["filename"] for p in body.get("photos", []))}


def crowd(served, event, selfies, clients, searches):
    url = f"{served.url}/api/events/{event['id']}/search"
    expected = {i: search(requests.Session(), url, s)["photos"] for i, s in enumerate(selfies)}
    stop, pages = threading.Event(), []

    def prober():
        while not stop.is_set():
            started = time.monotonic()
            try:
                ok = requests.get(served.url + "/events", timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            pages.append((ok, time.monotonic() - started))
            stop.wait(0.25)

    def client(n):
        session = requests.Session()  # one phone
        session.get(f"{served.url}/e/{event['code']}", timeout=60)
        out = []
        for k in range(searches):
            which = (n + k) % len(selfies)
            result = search(session, url, selfies[which])
            result["correct"] = result.get("photos") == expected[which]
            out.append(result)
        return out
    probe = threading.Thread(target=prober)
    probe.start()
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        results = [r for rs in pool.map(client, range(clients)) for r in rs]
    wall = time.monotonic() - started
    stop.set()
    probe.join()
    answered = [r for r in results if r["status"] == 200]
    return {
        "searches": len(results), "wall_s": round(wall, 1),
        "answered": len(answered),
        "refused": sum(r["status"] in (429, 503) for r in results),
        "errors": sum(r["status"] not in (200, 429, 503) for r in results),
        "wrong": sum(not r["correct"] for r in answered),
        "by_status": {str(k): sum(r["status"] == k for r in results)
                      for k in sorted({r["status"] for r in results}, key=str)},
        "search_p50_s": round(percentile([r["seconds"] for r in answered], 50), 2),
        "search_p95_s": round(percentile([r["seconds"] for r in answered], 95), 2),
        "page_p95_s": round(percentile([s for _, s in pages], 95), 3),
        "page_max_s": round(max(s for _, s in pages), 3),
        "page_errors": sum(not ok for ok, _ in pages),
    }


def percentile(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def memory(served, event, selfie, bombs):
    url = f"{served.url}/api/events/{event['id']}/search"
    search(requests.Session(), url, selfie)  # warm
    time.sleep(1)
    worker = served.worker()
    before = family_rss(worker)
    peak, stop = [before], threading.Event()

    def sampler():
        while not stop.is_set():
            peak.append(family_rss(worker))
            stop.wait(0.2)
    thread = threading.Thread(target=sampler)
    thread.start()
    out = io.BytesIO()
    Image.new("L", (12000, 12000)).save(out, "PNG", optimize=True)
    statuses = [search(requests.Session(), url, out.getvalue())["status"] for _ in range(bombs)]
    time.sleep(2)
    after = family_rss(worker)
    stop.set()
    thread.join()
    mb = 2 ** 20
    return {"bombs": bombs, "statuses": sorted(set(map(str, statuses))),
            "start_mb": round(before / mb), "peak_mb": round(max(peak) / mb),
            "end_mb": round(after / mb), "growth_mb": round((after - before) / mb)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--today-ref", default=TODAY_REF)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--searches", type=int, default=4)
    parser.add_argument("--bombs", type=int, default=20)
    parser.add_argument("--today-bombs", type=int, default=3,
                        help="today's code spends ~13 s of CPU per bomb: fewer of them")
    args = parser.parse_args(argv)
    from tests.face_data import resolve_faces_dir
    faces_dir = resolve_faces_dir()
    work = Path(tempfile.mkdtemp(prefix="phopy-venue-"))
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load_before = os.getloadavg()[0]
    try:
        trees = {"today": unpack_today(args.today_ref, work / "today"), "now": REPO_ROOT}
        selfie_files = phone_selfies(faces_dir, work / "selfies")
        print(f"{len(selfie_files)} selfies of 3000x4000", flush=True)
        cpu = {name: selfie_cpu(tree, work / "selfies") for name, tree in trees.items()}
        data = work / "data"
        event = make_event(data, faces_dir)
        crowd_selfies = [p.read_bytes() for p in selfie_files
                         if any(k in p.name for k in ("obama.jpg", "biden", "alex", "kit",
                                                      "rose"))][:6]
        runs = {}
        for name, tree in trees.items():
            copy = work / f"data-{name}"
            shutil.copytree(data, copy)
            served = Served(tree, copy, free_port())
            try:
                print(f"{name}: crowd", flush=True)
                runs[name] = {"crowd": crowd(served, event, crowd_selfies, args.clients,
                                             args.searches)}
            finally:
                served.stop()
            served = Served(tree, copy, free_port())
            try:
                print(f"{name}: memory", flush=True)
                bombs = args.today_bombs if name == "today" else args.bombs
                runs[name]["memory"] = memory(served, event, crowd_selfies[0], bombs)
            finally:
                served.stop()
        result = summarize(cpu, runs, args, started)
        result["run"]["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        OUT.write_text(json.dumps(result, indent=1))
        write_results(result)
        print(json.dumps(result["summary"], indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def encoding_shift(today, now):
    """How far the searched face's encoding moved: now's encoded face against
    today's face at the same place (two faces of a group selfie can be about as
    large, and the two trees may then take different ones as "largest")."""
    encoded = [f for f in now if f["encoding"]]
    if not encoded or not today:
        return None
    face = encoded[0]

    def gap(other):
        (t1, r1, b1, l1), (t2, r2, b2, l2) = face["box"], other["box"]
        return np.hypot((t1 + b1 - t2 - b2) / 2, (r1 + l1 - r2 - l2) / 2)
    same = min((f for f in today if f["encoding"]), key=gap, default=None)
    if same is None:
        return None
    return float(np.linalg.norm(np.array(face["encoding"]) - np.array(same["encoding"])))


def summarize(cpu, runs, args, started):
    names = sorted(cpu["today"])
    same = [cpu["today"][n]["faces"] == cpu["now"][n]["faces"] for n in names]
    dist = [d for d in (encoding_shift(cpu["today"][n]["found"], cpu["now"][n]["found"])
                        for n in names) if d is not None]
    mean_cpu = {k: statistics.mean(v[n]["cpu"] for n in names) for k, v in cpu.items()}
    return {
        "run": {"started": started, "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
                "today_ref": args.today_ref, "clients": args.clients,
                "searches": args.searches, "bombs": args.bombs,
                "today_bombs": args.today_bombs, "cores": os.cpu_count()},
        "summary": {
            "selfies": len(names),
            "selfie_cpu_today_s": round(mean_cpu["today"], 3),
            "selfie_cpu_now_s": round(mean_cpu["now"], 3),
            "selfie_cpu_ratio": round(mean_cpu["now"] / mean_cpu["today"], 3),
            "selfie_same_faces": f"{sum(same)}/{len(same)}",
            "selfie_encoding_shift_max": round(max(dist), 3) if dist else None,
            "today": runs["today"], "now": runs["now"]},
        "selfie_cpu": {k: {n: round(v[n]["cpu"], 3) for n in names} for k, v in cpu.items()},
        "selfie_faces": {k: {n: v[n]["faces"] for n in names} for k, v in cpu.items()},
    }


def write_results(result):
    s = result["summary"]
    t, n = s["today"], s["now"]
    r = result["run"]
    ok = lambda cond: "met" if cond else "MISSED"  # noqa: E731
    found, of = s["selfie_same_faces"].split("/")
    crowd_now = n["crowd"]
    lines = [
        START,
        "## Venue rush (issue 12)",
        "",
        f"Measured by `.venv/bin/python -m bench.venue --clients {r['clients']} --searches "
        f"{r['searches']} --bombs {r['bombs']} --today-bombs {r['today_bombs']}` on "
        f"{r['cores']} shared cores (1-minute load average {r['load_average'][0]} at the start, "
        f"{r['load_average'][1]} at the end: other work shares them), "
        f"{r['started']} – {r['finished']}. \"Today\" is commit "
        f"`{r['today_ref']}` run from `git archive` in the same run, same data, same selfies. "
        f"Today's code gets fewer bomb selfies ({r['today_bombs']}): each costs it ~13 s of CPU.",
        "",
        "| target | today | now | ratio / limit | status |",
        "|---|---|---|---|---|",
        f"| selfie analysis CPU, one 3000×4000 selfie (mean of {s['selfies']}) | "
        f"{s['selfie_cpu_today_s']} s | {s['selfie_cpu_now_s']} s | "
        f"{s['selfie_cpu_ratio']} (≤ 0.15 s) | {ok(s['selfie_cpu_now_s'] <= 0.15)} |",
        f"| same faces found (per selfie) | | {s['selfie_same_faces']} | encodings moved ≤ "
        f"{s['selfie_encoding_shift_max']} | {ok(found == of)} |",
        f"| crowd: errors + refusals of {crowd_now['searches']} searches, one address, "
        f"default limits | {t['crowd']['errors']} + {t['crowd']['refused']} | "
        f"{crowd_now['errors']} + {crowd_now['refused']} | 0 | "
        f"{ok(crowd_now['errors'] + crowd_now['refused'] == 0)} |",
        f"| crowd: wrong results | {t['crowd']['wrong']} | {crowd_now['wrong']} | 0 | "
        f"{ok(crowd_now['wrong'] == 0)} |",
        f"| crowd: search p95 | {t['crowd']['search_p95_s']} s | {crowd_now['search_p95_s']} s | "
        f"≤ 5 s | {ok(crowd_now['search_p95_s'] <= 5)} |",
        f"| crowd: plain page p95 meanwhile | {t['crowd']['page_p95_s']} s | "
        f"{crowd_now['page_p95_s']} s | ≤ 0.5 s | {ok(crowd_now['page_p95_s'] <= 0.5)} |",
        f"| worker memory after bomb selfies (growth) | {t['memory']['growth_mb']} MB after "
        f"{t['memory']['bombs']} (peak {t['memory']['peak_mb']}) | {n['memory']['growth_mb']} MB "
        f"after {n['memory']['bombs']} (peak {n['memory']['peak_mb']}) | ≤ 200 MB | "
        f"{ok(n['memory']['growth_mb'] <= 200)} |",
        "",
        f"Crowd wall time: today {t['crowd']['wall_s']} s ({t['crowd']['answered']} answered), "
        f"now {crowd_now['wall_s']} s ({crowd_now['answered']} answered); search p50 today "
        f"{t['crowd']['search_p50_s']} s, now {crowd_now['search_p50_s']} s; slowest page "
        f"today {t['crowd']['page_max_s']} s, now {crowd_now['page_max_s']} s. Raw figures: "
        "`bench/venue.json`.",
        "",
        "What \"now\" does with a selfie (default engine, dlib with HOG): decode once at half "
        "size (libjpeg draft scaling), one HOG scan of an 800 px copy without upsampling (a "
        "group selfie is counted again at 1200 px; none found falls back to the photo "
        "pipeline's scales), then dlib's landmarks and dlib's encoder network for the largest "
        "face only, run on onnxruntime from dlib's own weights (`phopy/faces/dlib_onnx.py`: "
        "~8 ms instead of ~90 ms, the same 128 values). It runs in the selfie pool's worker "
        "processes behind a bounded queue, so pages never wait behind searches.",
        END,
    ]
    text = RESULTS.read_text() if RESULTS.exists() else "# Phopy benchmark results\n"
    if START in text:
        text = text[:text.index(START)] + "\n".join(lines) + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
