"""Every face engine (SFace, MobileFaceNet, dlib with HOG or YuNet, 68- or 5-point
alignment) beside the original pipeline, in one run.

``python -m bench.engines`` generates the same events as ``python -m bench``
(same seeds, same generator, East and Southeast Asian people drawn on purpose
as attendees and impostors), indexes each with every engine configuration,
scores detection and matching at each engine's shipped tolerance with one and
three selfies, for the Asian people and the rest apart as well as overall,
sweeps the tolerance, and times the original pipeline (``bench.baseline``) on
the first photos of the first event for the speed ratio. It writes
``bench/results_engines.json`` and the "Face engines" section of
``bench/RESULTS.md`` (``bench.engines_report``; between markers, the rest is
left as is).
"""
import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench import baseline, quality
from bench.dataset import REPO_ROOT, resolve_faces_dir
from bench.engines_report import END, START, render
from bench.generate import EventSpec, generate_event
from bench.report import put_section
from phopy.faces.models import user_cache_dir

__all__ = ["CONFIGS", "END", "START", "SWEEPS", "run_engines", "write"]

CONFIGS = (("dlib (HOG)", {"engine": "dlib", "detector": "hog"}),
           ("dlib + YuNet", {"engine": "dlib", "detector": "yunet"}),
           ("dlib + YuNet, 5-point", {"engine": "dlib", "detector": "yunet",
                                      "encoding_model": "small"}),
           ("mobilefacenet", {"engine": "mobilefacenet"}),
           ("sface", {"engine": "sface"}))
_COSINE = tuple(np.round(np.arange(0.35, 0.751, 0.025), 3))
# Tolerances swept per engine (never per metric): finer where each engine's same
# and different people meet.
SWEEPS = {"dlib": tuple(np.round(np.arange(0.35, 0.651, 0.025), 3)),
          "mobilefacenet": tuple(sorted(set(_COSINE) | {0.545, 0.555, 0.565})),
          "sface": tuple(sorted(set(_COSINE) | {0.52, 0.535, 0.545, 0.555, 0.565, 0.6125}))}


def options_from(options):
    """This module's options from ``python -m bench``'s (the same events and sizes)."""
    return argparse.Namespace(
        photos=options.photos, attendees=options.attendees, impostors=options.impostors,
        seeds=tuple(options.seeds), width=options.width, height=options.height,
        selfie_size=tuple(options.selfie_size), baseline_photos=options.baseline_photos,
        processes=options.processes, out=options.out)


def make_settings(values, model_dir):
    """EngineSettings for one configuration, weights fetched if missing."""
    from phopy.faces import EngineSettings
    from phopy.faces.models import ensure_model, models_for
    settings = EngineSettings(model_dir=str(model_dir), **values)
    for name in models_for(settings.engine, settings.detector):
        ensure_model(name, model_dir)
    return settings


def matcher(analyses, settings):
    """match(selfie_encodings, tolerance) -> photo files, on the engine's metric."""
    from phopy.faces import FaceIndex, match_photos

    event = quality.IndexedEvent.from_analyses(analyses)
    photos = sorted(set(event.photo_files))
    photo_id = {p: i for i, p in enumerate(photos)}
    profile = settings.profile
    encodings = (np.asarray(event.encodings, dtype=np.float32).reshape(-1, profile.size)
                 if len(event.photo_files) else np.zeros((0, profile.size), np.float32))
    index = FaceIndex(np.arange(len(event.photo_files)),
                      [photo_id[p] for p in event.photo_files], encodings, engine=profile)

    def match(selfie_encodings, tolerance):
        return [photos[m.photo_id] for m in match_photos(index, selfie_encodings, tolerance)]

    return match


def selfie_cpu_seconds(settings, paths):
    """CPU seconds per selfie (one process, models loaded first)."""
    from phopy.faces import FaceEngine
    engine = FaceEngine(settings)
    engine.analyze_selfie(paths[0])  # load the models
    times = []
    for path in paths:
        start = time.process_time()
        engine.analyze_selfie(path)
        times.append(time.process_time() - start)
    return float(np.mean(times))


def event_spec(options, seed):
    """The generator's spec for one seed (the same as ``python -m bench``'s)."""
    return EventSpec(seed=seed, photos=options.photos, attendees=options.attendees,
                     impostors=options.impostors, width=options.width, height=options.height,
                     selfie_size=tuple(getattr(options, "selfie_size", EventSpec.selfie_size)))


def run_engines(options, model_dir, log=print):
    """Return the results dict of every configuration on every seed."""
    from bench.throughput import analyze_selfies, index_with_phopy

    procs = options.processes or None
    out = {"options": vars(options).copy(), "configs": {}, "machine": _machine()}
    configs = [(label, make_settings(values, model_dir)) for label, values in CONFIGS]
    for label, settings in configs:
        out["configs"][label] = {"settings": {k: v for k, v in asdict(settings).items()
                                              if k != "model_dir"}, "events": []}
    first = None
    for seed in options.seeds:
        spec = event_spec(options, seed)
        root = Path(options.out) / f"engines_seed{seed}"
        truth = generate_event(resolve_faces_dir(), root, spec, procs)
        asian = set(truth.get("asian", ()))
        out.setdefault("people", []).append({
            "seed": seed,
            "asian_attendees": sum(p["person"] in asian for p in truth["attendees"]),
            "attendees": len(truth["attendees"]),
            "asian_impostors": sum(p["person"] in asian for p in truth["impostors"]),
            "impostors": len(truth["impostors"])})
        first = first or (truth, root)
        paths = [str(root / p["file"]) for p in truth["photos"]]
        selfie_files = sorted({f for group in (truth["attendees"], truth["impostors"])
                               for person in group for f in person["selfies"]})
        for label, settings in configs:
            indexed = index_with_phopy(paths, settings, procs)
            analyses = {os.path.relpath(p, root): f for p, f in indexed["analyses"].items()}
            encs, _ = analyze_selfies([str(root / f) for f in selfie_files], settings, procs)
            selfies = {os.path.relpath(p, root): e for p, e in encs.items()}
            match = matcher(analyses, settings)
            row = {"seed": seed, "photos": len(paths),
                   "photos_per_s": len(paths) / indexed["seconds"],
                   "detection": quality.score_detection(truth, analyses),
                   "selfies_without_face": sum(e is None for e in selfies.values()),
                   "tolerance": settings.tolerance}
            for n in (1, 3):
                results = quality.run_queries(truth, selfies, match, settings.tolerance, n)
                row[f"selfies_{n}"] = quality.score_queries(truth, results, n)
                row[f"groups_{n}"] = quality.score_groups(truth, results, n)
                row[f"sweep_{n}"] = quality.sweep(truth, selfies, match,
                                                  SWEEPS[settings.engine], n)
            s1, s3 = row["selfies_1"], row["selfies_3"]
            asian, rest = row["groups_1"]["asian"], row["groups_1"]["rest"]
            log(f"seed {seed} {label}: {row['photos_per_s']:.2f} photos/s, faces "
                f"{row['detection']['true_faces_found']}/{row['detection']['true_faces']}; "
                f"1 selfie P={s1['micro_precision']:.3f} R={s1['micro_recall']:.3f} "
                f"FMR={s1['impostor_false_match_rate']:.3f} (Asian P={asian['micro_precision']:.3f} "
                f"R={asian['micro_recall']:.3f} FMR={asian['impostor_false_match_rate']:.3f}; "
                f"rest P={rest['micro_precision']:.3f} R={rest['micro_recall']:.3f} "
                f"FMR={rest['impostor_false_match_rate']:.3f}); 3 selfies "
                f"P={s3['micro_precision']:.3f} R={s3['micro_recall']:.3f}")
            out["configs"][label]["events"].append(row)
    truth, root = first
    out.update(measure_same_photos(options, truth, root, configs, log))
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return out


def measure_same_photos(options, truth, root, configs, log=print):
    """Original pipeline vs each engine on the same photos, one process each, models warm.

    Equal footing: the original pipeline is one process, so each engine runs in
    one process too (no pool start-up in the figure). The pool's all-core
    figure is the per-event ``photos_per_s``.
    """
    from phopy.faces import FaceEngine

    subset = [p["file"] for p in truth["photos"][: options.baseline_photos]]
    sub_truth = quality.restrict_truth(truth, subset)
    sub_paths = [str(root / f) for f in subset]
    base_analyses, base_s = baseline.index_photos(sub_paths)
    base = {"photos": len(sub_paths), "photos_per_s": len(sub_paths) / sum(base_s),
            "detection": quality.score_detection(
                sub_truth, {os.path.relpath(p, root): f for p, f in base_analyses.items()})}
    log(f"baseline: {base['photos_per_s']:.3f} photos/s on {len(sub_paths)} photos, faces "
        f"{base['detection']['true_faces_found']}/{base['detection']['true_faces']}")
    selfie_paths = [str(root / p["selfies"][0]) for p in truth["attendees"][:10]]
    configs_out = {}
    for label, settings in configs:
        engine = FaceEngine(settings)
        engine.analyze_photo(sub_paths[0])  # load the models
        analyses, start = {}, time.perf_counter()
        for path in sub_paths:
            analyses[os.path.relpath(path, root)] = [
                (f.box, f.encoding) for f in engine.analyze_photo(path).faces]
        seconds = time.perf_counter() - start
        det = quality.score_detection(sub_truth, analyses)
        same = configs_out[label] = {
            "photos_per_s": len(sub_paths) / seconds,
            "speedup": len(sub_paths) / seconds / base["photos_per_s"],
            "detection": det,
            "selfie_cpu_s": selfie_cpu_seconds(settings, selfie_paths)}
        log(f"{label} on the baseline's photos (one process): {same['speedup']:.1f}x, faces "
            f"{det['true_faces_found']}/{det['true_faces']}, selfie "
            f"{same['selfie_cpu_s']:.3f} s CPU")
    return {"baseline": base, "same_photos": configs_out}


def _machine():
    import platform
    return {"logical_cores": os.cpu_count(), "platform": platform.platform()}


def write(results, report_dir):
    """Write results_engines.json and put the section into RESULTS.md."""
    report_dir = Path(report_dir)
    (report_dir / "results_engines.json").write_text(
        json.dumps(results, indent=1, default=lambda v: v.item() if hasattr(v, "item")
                   else list(v) if isinstance(v, (tuple, set)) else str(v)))
    notes = Path(report_dir) / "notes_engines.md"
    section = render(results, notes.read_text() if notes.is_file() else "")
    put_section(report_dir / "RESULTS.md", START, END, section)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__)
    p.add_argument("--photos", type=int, default=40)
    p.add_argument("--attendees", type=int, default=24)
    p.add_argument("--impostors", type=int, default=12)
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--width", type=int, default=4000)
    p.add_argument("--height", type=int, default=3000)
    p.add_argument("--selfie-size", type=lambda t: tuple(int(v) for v in t.split(",")),
                   default=EventSpec.selfie_size, help="selfie WxH")
    p.add_argument("--baseline-photos", type=int, default=6)
    p.add_argument("--processes", type=int, default=0)
    p.add_argument("--out", default=str(REPO_ROOT / "bench" / "out"))
    p.add_argument("--model-dir", default=str(user_cache_dir()))
    p.add_argument("--report-dir", default=str(REPO_ROOT / "bench"))
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--speed-only", action="store_true",
                   help="re-measure only the same-photos speed of results_engines.json")
    args = p.parse_args(argv)
    if args.report_only or args.speed_only:
        results = json.loads((Path(args.report_dir) / "results_engines.json").read_text())
    if args.speed_only:
        o = argparse.Namespace(**results["options"])
        o.baseline_photos = args.baseline_photos
        spec = event_spec(o, o.seeds[0])
        root = Path(o.out) / f"engines_seed{o.seeds[0]}"
        truth = generate_event(resolve_faces_dir(), root, spec, None)
        configs = [(label, make_settings(values, Path(args.model_dir)))
                   for label, values in CONFIGS]
        results.update(measure_same_photos(o, truth, root, configs,
                                           log=lambda s: print(s, flush=True)))
        results["options"]["baseline_photos"] = o.baseline_photos
    if not (args.report_only or args.speed_only):
        args.seeds = tuple(int(s) for s in args.seeds.split(",") if s)
        skip = ("model_dir", "report_dir", "report_only", "speed_only")
        options = argparse.Namespace(**{k: v for k, v in vars(args).items() if k not in skip})
        results = run_engines(options, Path(args.model_dir), log=lambda s: print(s, flush=True))
    write(results, args.report_dir)
    print(f"wrote {Path(args.report_dir) / 'RESULTS.md'} and results_engines.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
