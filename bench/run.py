"""Run the whole benchmark and collect one results dict.

Each part is a function of the options and what earlier parts produced, so
the tiny test run and the full command share every line.
"""
import json
import os
import pickle
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from bench import baseline, groups, quality
from bench.dataset import REPO_ROOT, resolve_faces_dir
from bench.generate import EventSpec, generate_event


@dataclass
class Options:
    """Everything the command line can change (defaults = the full run)."""

    photos: int = 300
    attendees: int = 100
    impostors: int = 50
    seeds: tuple = (1, 2, 3)
    out: str = str(REPO_ROOT / "bench" / "out")
    processes: int = 0                 # 0 = all cores
    width: int = 4000
    height: int = 3000
    selfie_size: tuple = (3000, 4000)
    baseline_photos: int = 20          # baseline runs on the first N photos of seed 1
    baseline_queries: int = 20         # attendees in that subset (+ half as many impostors)
    cli_known: int = 8                 # known people given to the face_recognition CLI
    vector_sizes: tuple = (1_000, 10_000, 100_000, 1_000_000)
    vector_queries: int = 40
    http_photos: int = 40
    http_repeats: int = 12
    variants: tuple = ((2000, 1), (1600, 1))   # other detection scales on the subset
    tolerances: tuple = tuple(np.round(np.arange(0.35, 0.651, 0.025), 3))
    skip: tuple = field(default_factory=tuple)   # parts to leave out
    reuse: bool = False                # re-score a cached index (timings from then)


def machine_info():
    """CPU model, cores, memory and library versions."""
    import dlib
    import psutil

    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu_model": model, "logical_cores": os.cpu_count(),
            "physical_cores": psutil.cpu_count(logical=False),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "numpy": np.__version__,
            "dlib": dlib.__version__, "platform": platform.platform()}


# These parts measure Phopy's dlib pipeline (HOG, dlib's encoder) against the
# original one (face_recognition), detection settings and all; the engines part
# (bench.engines) measures every engine, the default among them, on the same events.
PIPELINE = {"engine": "dlib", "detector": "hog"}


def phopy_matcher(event):
    """Phopy's matcher (``phopy.faces.match_photos``) over an ``IndexedEvent``."""
    from phopy.faces import FaceIndex, match_photos

    photos = sorted(set(event.photo_files))
    photo_id = {p: i for i, p in enumerate(photos)}
    index = FaceIndex(np.arange(len(event.photo_files), dtype=np.int64),
                      np.array([photo_id[p] for p in event.photo_files], dtype=np.int64),
                      event.encodings, engine=PIPELINE["engine"])

    def match(selfie_encodings, tolerance):
        return [photos[m.photo_id] for m in match_photos(index, selfie_encodings, tolerance)]

    return match


CACHE = "phopy_index.pkl"


def save_index_cache(root, settings, cached):
    """Keep an event's Phopy analyses and timings, to re-score matchers later."""
    cached = dict(cached, settings=asdict(settings),
                  measured=time.strftime("%Y-%m-%d %H:%M:%S"))
    with open(Path(root) / CACHE, "wb") as fh:
        pickle.dump(cached, fh)


def load_index_cache(root, settings):
    """The cached analyses when they were made with the same engine settings."""
    path = Path(root) / CACHE
    if not path.exists():
        return None
    with open(path, "rb") as fh:
        cached = pickle.load(fh)
    def indexing(values):  # the tolerance changes matching only, not the index
        return {k: v for k, v in values.items() if k != "tolerance"}

    return cached if indexing(cached["settings"]) == indexing(asdict(settings)) else None


def _relative(analyses, root):
    return {os.path.relpath(path, root): faces for path, faces in analyses.items()}


def run_event(options, seed, settings, log):
    """Generate one event, index it with Phopy, score detection and matching."""
    from bench.throughput import analyze_selfies, index_with_phopy

    spec = EventSpec(seed=seed, photos=options.photos, attendees=options.attendees,
                     impostors=options.impostors, width=options.width,
                     height=options.height, selfie_size=tuple(options.selfie_size))
    root = Path(options.out) / f"event_seed{seed}"
    start = time.perf_counter()
    truth = generate_event(resolve_faces_dir(), root, spec, _procs(options))
    log(f"seed {seed}: event ready in {time.perf_counter() - start:.0f}s "
        f"({len(truth['photos'])} photos, {sum(len(p['faces']) for p in truth['photos'])} faces)")
    cached = load_index_cache(root, settings) if options.reuse else None
    if cached is None:
        paths = [str(root / p["file"]) for p in truth["photos"]]
        indexed = index_with_phopy(paths, settings, _procs(options))
        analyses = _relative(indexed["analyses"], root)
        selfie_files = sorted({f for group in (truth["attendees"], truth["impostors"])
                               for person in group for f in person["selfies"]})
        encs, selfie_s = analyze_selfies([str(root / f) for f in selfie_files], settings,
                                         _procs(options))
        selfie_encodings = {os.path.relpath(p, root): e for p, e in encs.items()}
        cached = {"analyses": analyses, "selfie_encodings": selfie_encodings,
                  "seconds": indexed["seconds"], "peak_rss": indexed["peak_rss"],
                  "errors": indexed["errors"], "selfie_seconds": selfie_s}
        save_index_cache(root, settings, cached)
    else:
        log(f"seed {seed}: reusing the Phopy index measured at {cached['measured']}")
    analyses, selfie_encodings = cached["analyses"], cached["selfie_encodings"]
    indexed = {"seconds": cached["seconds"], "peak_rss": cached["peak_rss"],
               "errors": cached["errors"]}
    selfie_s = cached["selfie_seconds"]
    paths = list(analyses)
    faces = sum(len(f) for f in analyses.values())
    log(f"seed {seed}: Phopy indexed {len(paths)} photos in {indexed['seconds']:.1f}s "
        f"({len(paths) / indexed['seconds']:.2f} photos/s, {faces} faces)")
    event = quality.IndexedEvent.from_analyses(analyses)
    match = phopy_matcher(event)
    tol = settings.tolerance
    result = {
        "seed": seed, "photos": len(paths), "faces_found": faces,
        "index_seconds": indexed["seconds"],
        "photos_per_s": len(paths) / indexed["seconds"],
        "faces_per_s": faces / indexed["seconds"],
        "peak_rss_bytes": indexed["peak_rss"], "errors": indexed["errors"],
        "selfies_without_face": sum(e is None for e in selfie_encodings.values()),
        "selfie_seconds_mean": float(np.mean(selfie_s)),
        "detection": quality.score_detection(truth, analyses),
        "bystanders": truth["bystanders"],
    }
    for n in (1, 3):
        results = quality.run_queries(truth, selfie_encodings, match, tol, n)
        result[f"selfies_{n}"] = quality.score_queries(truth, results, n)
        result[f"sweep_{n}"] = quality.sweep(truth, selfie_encodings, match,
                                             options.tolerances, n)
    s1, s3 = result["selfies_1"], result["selfies_3"]
    log(f"seed {seed}: 1 selfie P={s1['micro_precision']:.3f} R={s1['micro_recall']:.3f} "
        f"FMR={s1['impostor_false_match_rate']:.3f}; 3 selfies P={s3['micro_precision']:.3f} "
        f"R={s3['micro_recall']:.3f} FMR={s3['impostor_false_match_rate']:.3f}; "
        f"faces found {result['detection']['true_faces_found']}/"
        f"{result['detection']['true_faces']}")
    return result, truth, root, selfie_encodings, event.encodings


def run_baseline(options, truth, root, settings, phopy_selfies, log):
    """Baseline vs Phopy on the same subset of one event's photos and queries."""
    from bench.throughput import index_with_phopy

    subset = [p["file"] for p in truth["photos"][: options.baseline_photos]]
    sub_truth = quality.restrict_truth(truth, subset)
    attendees = sub_truth["attendees"][: options.baseline_queries]
    impostors = truth["impostors"][: max(1, options.baseline_queries // 2)]
    sub_truth["attendees"], sub_truth["impostors"] = attendees, impostors
    paths = [str(root / f) for f in subset]

    base_analyses, base_s = baseline.index_photos(paths)
    log(f"baseline: {len(paths)} photos in {sum(base_s):.1f}s "
        f"({len(paths) / sum(base_s):.3f} photos/s)")
    phopy = index_with_phopy(paths, settings, _procs(options))
    selfie_files = [p["selfies"][0] for p in attendees + impostors]
    base_selfies, selfie_s = {}, []
    for f in selfie_files:
        t0 = time.perf_counter()
        base_selfies[f] = baseline.analyze_selfie(root / f)
        selfie_s.append(time.perf_counter() - t0)
    log(f"baseline: {len(selfie_files)} selfies in {sum(selfie_s):.1f}s")

    out = {"photos": len(paths), "queries": len(attendees), "impostor_queries": len(impostors)}
    for name, analyses, seconds, selfies, match_of in (
            ("baseline", _relative(base_analyses, root), sum(base_s), base_selfies,
             baseline.make_matcher),
            ("phopy", _relative(phopy["analyses"], root), phopy["seconds"], phopy_selfies,
             phopy_matcher)):
        event = quality.IndexedEvent.from_analyses(analyses)
        tol = baseline.BASELINE_TOLERANCE if name == "baseline" else settings.tolerance
        results = quality.run_queries(sub_truth, selfies, match_of(event), tol, 1)
        faces = len(event.photo_files)
        out[name] = {"seconds": seconds, "photos_per_s": len(paths) / seconds,
                     "faces_per_s": faces / seconds, "faces_found": faces,
                     "tolerance": tol,
                     "detection": quality.score_detection(sub_truth, analyses),
                     "selfies_1": quality.score_queries(sub_truth, results, 1)}
    out["baseline"]["selfie_seconds_mean"] = float(np.mean(selfie_s))
    out["variants"] = []
    for side, upsample in options.variants:
        variant = replace(settings, detect_max_side=side, upsample=upsample)
        run = index_with_phopy(paths, variant, _procs(options))
        analyses = _relative(run["analyses"], root)
        det = quality.score_detection(sub_truth, analyses)
        out["variants"].append({"detect_max_side": side, "upsample": upsample,
                                "photos_per_s": len(paths) / run["seconds"],
                                "speedup": len(paths) / run["seconds"]
                                / out["baseline"]["photos_per_s"],
                                "detection": det})
        log(f"variant {side}/{upsample}: {len(paths) / run['seconds']:.2f} photos/s, "
            f"{det['true_faces_found']}/{det['true_faces']} true faces")
    out["speedup_photos_per_s"] = out["phopy"]["photos_per_s"] / out["baseline"]["photos_per_s"]
    log(f"speed-up on the same photos: {out['speedup_photos_per_s']:.1f}x")
    return out


def run_cli_reference(options, truth, root, baseline_selfie_s, log):
    """The face_recognition CLI on the baseline subset with a few known people."""
    subset = [p["file"] for p in truth["photos"][: options.baseline_photos]]
    sub_truth = quality.restrict_truth(truth, subset)
    known = sub_truth["attendees"][: options.cli_known]
    work = Path(options.out) / "cli"
    for folder in ("known", "unknown"):
        (work / folder).mkdir(parents=True, exist_ok=True)
        for old in (work / folder).iterdir():
            old.unlink()
    for person in known:
        (work / "known" / f"{person['person']}.jpg").symlink_to(
            (root / person["selfies"][0]).resolve())
    for f in subset:
        (work / "unknown" / Path(f).name).symlink_to((root / f).resolve())
    cpus = _procs(options) or os.cpu_count()
    matches, seconds = baseline.run_cli(work / "known", work / "unknown", cpus)
    scan_estimate = len(known) * baseline_selfie_s
    photo_s = max(seconds - scan_estimate, 1e-6)
    sub_truth["attendees"], sub_truth["impostors"] = known, []
    results = {p["person"]: [f"photos/{name}" for name in matches.get(p["person"], ())]
               for p in known}
    log(f"face_recognition CLI: {seconds:.1f}s total, ~{photo_s:.1f}s on photos")
    return {"cpus": cpus, "photos": len(subset), "known_people": len(known),
            "seconds_total": seconds, "known_scan_estimate_s": scan_estimate,
            "photos_per_s": len(subset) / photo_s,
            "selfies_1": quality.score_queries(sub_truth, results, 1)}


def run_groups(settings, log):
    """Named group photos through Phopy and through the baseline."""
    from phopy.faces import FaceEngine

    faces_dir = resolve_faces_dir()
    paths = groups.group_photo_paths(faces_dir)
    engine = FaceEngine(settings)
    phopy_analyses = {p: [(f.box, f.encoding) for f in engine.analyze_photo(p).faces]
                      for p in paths}
    base_analyses = {p: baseline.analyze_photo(p) for p in paths}
    out = {}
    for name, analyses, selfie_of, match_of, tol in (
            ("phopy", phopy_analyses, lambda p: _first(engine.analyze_selfie(p)),
             phopy_matcher, settings.tolerance),
            ("baseline", base_analyses, baseline.analyze_selfie, baseline.make_matcher,
             baseline.BASELINE_TOLERANCE)):
        match = match_of(quality.IndexedEvent.from_analyses(analyses))
        results = {}
        for person in groups.NAMED:
            encs = [e for e in (selfie_of(p) for p in groups.selfie_paths(faces_dir, person))
                    if e is not None]
            results[person] = match(encs, tol) if encs else []
        out[name] = groups.score_named(results)
    log("named group photos: " + ", ".join(
        f"{who} {sum(r['ok'] for r in rows.values())}/{len(rows)}" for who, rows in out.items()))
    return out


def _first(faces):
    return faces[0].encoding if faces else None


def _procs(options):
    return options.processes or None


def summarize_events(events):
    """Mean, min and max over seeds of the headline quality figures."""
    keys = ("micro_precision", "micro_recall", "macro_precision", "macro_recall",
            "impostor_false_match_rate")
    out = {}
    for n in (1, 3):
        for key in keys:
            values = [e[f"selfies_{n}"][key] for e in events]
            out[f"selfies_{n}_{key}"] = {"mean": float(np.mean(values)),
                                         "min": float(np.min(values)),
                                         "max": float(np.max(values))}
    values = [e["detection"]["face_recall"] for e in events]
    out["face_recall"] = {"mean": float(np.mean(values)), "min": float(np.min(values)),
                          "max": float(np.max(values))}
    return out


def run_benchmark(options, log=print):
    """Run every part not in ``options.skip``; return the results dict.

    A part that fails is recorded as ``{"error": ...}`` and the run goes on;
    results so far are checkpointed to ``<out>/partial_results.json``.
    """
    from phopy.faces import EngineSettings

    settings = EngineSettings(**PIPELINE)
    results = {"machine": machine_info(), "options": _jsonable(asdict(options)),
               "engine_settings": _jsonable(asdict(settings)),
               "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    m = results["machine"]
    log(f"machine: {m['cpu_model']}, {m['logical_cores']} logical cores "
        f"({m['physical_cores']} physical), {m['memory_gib']} GiB")
    events, first = [], None
    for seed in options.seeds:
        result, truth, root, selfies, encodings = run_event(options, seed, settings, log)
        events.append(result)
        first = first or (truth, root, selfies, encodings)
    results["events"] = events
    results["events_summary"] = summarize_events(events)
    truth, root, selfies, real = first
    checkpoint = Path(options.out) / "partial_results.json"

    def part(name, key, function):
        if name in options.skip:
            return
        try:
            results[key] = function()
        except Exception as error:  # keep the rest of the run; say what broke
            results[key] = {"error": f"{type(error).__name__}: {error}"}
            log(f"{name} failed: {type(error).__name__}: {error}")
        checkpoint.write_text(json.dumps(results, default=_json_default))

    part("baseline", "baseline",
         lambda: run_baseline(options, truth, root, settings, selfies, log))
    if "error" not in results.get("baseline", {"error": 1}):
        part("cli", "cli", lambda: run_cli_reference(
            options, truth, root, results["baseline"]["baseline"]["selfie_seconds_mean"], log))
    part("groups", "groups", lambda: run_groups(settings, log))
    part("vector", "vector_search", lambda: run_vector(options, settings, real, log))
    part("memory", "memory", lambda: run_memory(real, events))
    part("http", "http_search", lambda: run_http(options, truth, root, log))
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return results


def run_vector(options, settings, real, log):
    """Vector search latency at each size."""
    from bench.latency import bench_vector_search

    rows = bench_vector_search(options.vector_sizes, real, settings.tolerance,
                               options.vector_queries)
    for row in rows:
        log(f"vector search {row['faces']:>9,} faces: Phopy p95 "
            f"{row['phopy']['p95_ms']:.2f} ms, face_distance p95 "
            f"{row['face_distance']['p95_ms']:.2f} ms")
    return rows


def run_memory(real, events):
    """Search cache size per 100k faces and the indexing peak."""
    from bench.memory import cache_rss_per_100k

    return {"search_cache": cache_rss_per_100k(real),
            "peak_rss_indexing_bytes": max(e["peak_rss_bytes"] for e in events)}


def run_http(options, truth, root, log):
    """End-to-end search through the app on the first photos of the first event."""
    from bench.http_search import bench_http_search

    photo_dir = Path(options.out) / "http_photos"
    photo_dir.mkdir(parents=True, exist_ok=True)
    for old in photo_dir.iterdir():
        old.unlink()
    for p in truth["photos"][: options.http_photos]:
        (photo_dir / Path(p["file"]).name).symlink_to((root / p["file"]).resolve())
    shown = {p["file"] for p in truth["photos"][: options.http_photos]}
    queries = [[str(root / f) for f in a["selfies"]] for a in truth["attendees"]
               if shown & set(a["photos"])]
    out = bench_http_search(photo_dir, queries, options.http_repeats)
    log(f"HTTP search: 1 selfie p95 {out['selfies_1']['p95_ms']:.0f} ms, "
        f"3 selfies p95 {out['selfies_3']['p95_ms']:.0f} ms")
    return out


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
