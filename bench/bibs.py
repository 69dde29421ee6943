"""Race bibs: ``python -m bench.bibs`` (issue 23).

Generated race photos (``bench.bibs_draw``: the bench's people as runners with
bibs on their chests, 3 seeds) are indexed with Phopy's own code: faces through
``FacePool`` (SFace, the default engine), then bibs through the ``read_bibs``
job's reading functions (``phopy.bibs.reading.read_image`` with the real
RapidOCR reader, and ``phopy.bibs.checks.Rules``, no start list). Searches run
as ``phopy.bibs.search`` runs them on the face index (``match_photos``): by bib
(the photos where it was read, plus the photos of the faces that wore it) and
by selfie alone vs fused with the bibs read under the selfie's matched faces.

Reported: bib-reading precision and recall by digit-height band, search-by-bib
precision and recall, face-alone vs fused recall and precision for attendees who
have a bib, OCR seconds per photo and the indexing time with bibs against faces
alone (same run, same cores). Writes ``bench/results_bibs.json`` and the "Race
bibs" section at the end of ``bench/RESULTS.md`` (``bench.bibs_report``).
"""
import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench import quality
from bench.bibs_draw import RaceSpec, generate_race
from bench.bibs_report import write
from bench.dataset import REPO_ROOT, resolve_faces_dir
from phopy.faces.models import user_cache_dir

BANDS = ((20, 30), (30, 40), (40, 60), (60, 90), (90, 1000))
TOLERANCE_BOX = 0.5   # a reading counts for a bib when its centre is within the digits'
#                       box grown by this share of the digit height on each side


def band_of(height):
    for low, high in BANDS:
        if low <= height < high:
            return f"{low}-{high - 1}" if high < 1000 else f"{low}+"
    return f"<{BANDS[0][0]}"


def _grown(box, digit):
    m = digit * TOLERANCE_BOX
    return (box[0] - m, box[1] - m, box[2] + m, box[3] + m)


def _inside(point, box):
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def read_photos(pool, paths, analyses, threads=2):
    """Bib readings of every photo as the ``read_bibs`` job reads them: on the face
    pool that indexed them (a runner keeps one pool for every task), one photo and one
    OCR thread a process, OCR models loaded in the timing; (readings, wall seconds,
    {path: (seconds, pid, started)} as ``bench.throughput.timed``).

    ``readings[path]`` are stored-reading dicts (bib, confidence, box_*, face_id,
    searchable), face ids being (path, face row)."""
    from bench.throughput import timed
    from phopy.bibs import checks
    from phopy.bibs.reading import read_task
    from phopy.bibs.settings import DEFAULT_PATTERN
    rules = checks.Rules()
    out, seconds = {}, {}
    start = time.perf_counter()
    threads = threads if pool.processes == 1 else 1
    items = [(path, path, (read_task, [{"id": (path, i), "box_top": b[0], "box_right": b[1],
                                        "box_bottom": b[2], "box_left": b[3]}
                                       for i, (b, _e) in enumerate(analyses[path])],
                           DEFAULT_PATTERN, threads, 120_000_000)) for path in paths]
    for path, result, error in pool.analyze(items, task=timed):
        tokens, seconds[path] = result[0], result[1:]
        if tokens is None:
            raise RuntimeError(f"bibs of {path} not read: {error}")
        out[path] = [{**g, "path": path} for g in rules.apply(tokens)]
    return out, time.perf_counter() - start, seconds


def score_reading(truth, root, readings):
    """Per band: true bibs, read right (searchable); searchable readings, right ones;
    and the readings held for review (not searchable) counted on their own."""
    bands = {}

    def row(name):
        return bands.setdefault(name, {"bibs": 0, "found": 0, "readings": 0, "right": 0})
    for photo in truth["photos"]:
        runners = [r for r in photo["faces"] if r.get("bib") and r.get("digit_box")]
        got = readings[str(root / photo["file"])]
        for r in runners:
            row(band_of(r["digit_px"]))["bibs"] += 1
            area = _grown(r["digit_box"], r["digit_px"])
            if any(g["searchable"] and g["bib"] == r["bib"] and _inside(_centre(g), area)
                   for g in got):
                row(band_of(r["digit_px"]))["found"] += 1
        for g in got:
            if not g["searchable"]:  # held for the photographer's review: asserts nothing
                row("held for review")["readings"] += 1
                continue
            holder = next((r for r in runners
                           if _inside(_centre(g), _grown(r["digit_box"], r["digit_px"]))), None)
            height = holder["digit_px"] if holder else g["box_bottom"] - g["box_top"]
            b = row(band_of(height))
            b["readings"] += 1
            b["right"] += int(holder is not None and holder["bib"] == g["bib"])
    return bands


def _centre(g):
    return ((g["box_left"] + g["box_right"]) / 2, (g["box_top"] + g["box_bottom"]) / 2)


def build_index(analyses, paths, settings):
    """FaceIndex (face id = row), each row's (path, face number), photo number -> path."""
    from phopy.faces import FaceIndex
    rows = [(p, i, enc) for p in paths for i, (_b, enc) in enumerate(analyses[p])]
    size = settings.profile.size
    enc = (np.asarray([r[2] for r in rows], np.float32).reshape(-1, size) if rows
           else np.zeros((0, size), np.float32))
    number = {p: n for n, p in enumerate(paths)}
    index = FaceIndex(np.arange(len(rows)), [number[r[0]] for r in rows], enc,
                      engine=settings.profile)
    return index, [(r[0], r[1]) for r in rows]


def searches(truth, root, paths, analyses, readings, selfies, settings):
    """Search by bib (every runner), and selfie alone vs fused (attendees with a bib)."""
    from phopy.bibs.search import MAX_LOOKS
    from phopy.faces import match_photos
    index, faces = build_index(analyses, paths, settings)
    row_of = {f: n for n, f in enumerate(faces)}
    tol = settings.tolerance
    photos_of = {}
    for photo in truth["photos"]:
        for r in photo["faces"]:
            photos_of.setdefault(r["person"], set()).add(str(root / photo["file"]))
    by_bib, bibs_on_face = {}, {}
    for path, got in readings.items():
        for g in got:
            if g["searchable"]:
                by_bib.setdefault(g["bib"], []).append(g)
                if g["face_id"] is not None:
                    bibs_on_face.setdefault(g["face_id"], set()).add(g["bib"])

    def find_by_bib(bib):  # as phopy.bibs.search.find_by_bib
        got = sorted(by_bib.get(bib, []), key=lambda g: -g["confidence"])
        found = {g["path"] for g in got}
        looks = [index.encodings[row_of[g["face_id"]]] for g in got if g["face_id"]][:MAX_LOOKS]
        if looks:
            found |= {paths[m.photo_id] for m in match_photos(index, looks, tol)}
        return found

    bib_rows = []
    for person, bib in truth["bibs"].items():
        if person in photos_of:
            bib_rows.append((photos_of[person], find_by_bib(bib)))
    face_rows, fused_rows = [], []
    for attendee in truth["attendees"]:
        person = attendee["person"]
        enc = selfies.get(attendee["selfies"][0])
        wanted = set(str(root / f) for f in attendee["photos"])
        if not wanted:
            continue
        face = set() if enc is None else match_photos(index, [enc], tol)
        shown = {paths[m.photo_id] for m in face}
        fused = set(shown)
        for m in face:  # as phopy.bibs.search.add_bib_photos
            for bib in bibs_on_face.get(faces[m.face_id], ()):
                fused |= {g["path"] for g in by_bib.get(bib, [])}
        face_rows.append((wanted, shown))
        fused_rows.append((wanted, fused))
    return {"by_bib": _pr(bib_rows), "face_alone": _pr(face_rows), "fused": _pr(fused_rows)}


def _pr(rows):
    right = sum(len(w & s) for w, s in rows)
    shown = sum(len(s) for _w, s in rows)
    wanted = sum(len(w) for w, _s in rows)
    return {"queries": len(rows), "shown": shown, "right": right, "wanted": wanted,
            "precision": right / shown if shown else 1.0,
            "recall": right / wanted if wanted else 1.0}


def run(options, log=print):
    """The results dict of every seed."""
    from bench.engines import make_settings
    from bench.throughput import analyze_selfies, index_with_phopy, steady_mean
    from phopy.faces import FacePool
    settings = make_settings({"engine": "sface"}, Path(options.model_dir))
    procs = options.processes or None
    out = {"options": {k: v for k, v in vars(options).items()}, "events": [],
           "machine": {"logical_cores": os.cpu_count()}}
    for seed in options.seeds:
        spec = RaceSpec(seed=seed, photos=options.photos, attendees=options.attendees,
                        impostors=options.impostors, width=options.width,
                        height=options.height)
        root = Path(options.out) / f"bibs_seed{seed}"
        truth = generate_race(resolve_faces_dir(), root, spec, procs)
        paths = [str(root / p["file"]) for p in truth["photos"]]
        with FacePool(settings, processes=procs) as pool:
            indexed = index_with_phopy(paths, settings, pool=pool)
            analyses = indexed["analyses"]
            readings, ocr_wall, ocr = read_photos(pool, paths, analyses, options.threads)
        files = sorted({f for a in truth["attendees"] for f in a["selfies"]})
        encs, _ = analyze_selfies([str(root / f) for f in files], settings, procs)
        selfies = {os.path.relpath(p, root): e for p, e in encs.items()}
        rel = {os.path.relpath(p, root): v for p, v in analyses.items()}
        row = {"seed": seed, "photos": len(paths), "spec": asdict(spec),
               "runners": sum(len(p["faces"]) for p in truth["photos"]),
               "bibs_visible": sum(bool(r.get("bib") and r.get("digit_box"))
                                   for p in truth["photos"] for r in p["faces"]),
               "face_seconds": indexed["seconds"], "ocr_seconds": ocr_wall,
               "face_per_photo": steady_mean(indexed["photo_times"]),
               "ocr_per_photo": steady_mean(ocr),
               "ocr_p95": float(np.percentile([t[0] for t in ocr.values()], 95)),
               "detection": quality.score_detection(truth, rel),
               "reading": score_reading(truth, root, readings),
               **searches(truth, root, paths, analyses, readings, selfies, settings)}
        row["ratio_run"] = row["ocr_seconds"] / row["face_seconds"]  # start-ups in
        row["ratio"] = row["ocr_per_photo"] / row["face_per_photo"]  # per photo, started
        log(f"seed {seed}: {len(paths)} photos, faces {row['face_seconds']:.1f} s, OCR "
            f"{row['ocr_seconds']:.1f} s (+{row['ratio_run']:.0%}; per photo "
            f"{row['face_per_photo']:.3f} / {row['ocr_per_photo']:.3f} s, "
            f"+{row['ratio']:.0%}); by bib P="
            f"{row['by_bib']['precision']:.3f} R={row['by_bib']['recall']:.3f}; face R="
            f"{row['face_alone']['recall']:.3f} fused R={row['fused']['recall']:.3f}")
        out["events"].append(row)
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.bibs", description=__doc__)
    p.add_argument("--photos", type=int, default=40)
    p.add_argument("--attendees", type=int, default=12)
    p.add_argument("--impostors", type=int, default=3)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--width", type=int, default=2400)
    p.add_argument("--height", type=int, default=1600)
    p.add_argument("--processes", type=int, default=0, help="0 = all cores")
    p.add_argument("--threads", type=int, default=2,
                   help="OCR threads (BIB_OCR_THREADS) when one process reads")
    p.add_argument("--out", default=str(REPO_ROOT / "bench" / "out"))
    p.add_argument("--model-dir", default=str(user_cache_dir()))
    p.add_argument("--report-dir", default=str(REPO_ROOT / "bench"))
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    report_dir = Path(args.report_dir)
    if args.report_only:
        results = json.loads((report_dir / "results_bibs.json").read_text())
    else:
        args.seeds = tuple(int(s) for s in str(args.seeds).split(",") if s)
        opts = argparse.Namespace(**{k: v for k, v in vars(args).items()
                                     if k not in ("report_dir", "report_only")})
        results = run(opts, log=lambda s: print(s, flush=True))
    judged = write(results, report_dir)
    print(f"wrote the race bibs section of {report_dir / 'RESULTS.md'} and results_bibs.json")
    for label, figure, status in judged:
        print(f"  {status:8} {label}: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
