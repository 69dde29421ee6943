""""Is this you?" with a simulated attendee: ``python -m bench.confirm``.

The same generated events as ``python -m bench.engines`` (same generator, seeds and
sizes; East and Southeast Asian people drawn on purpose). Each event is indexed with
the default engine (SFace) and with dlib + YuNet; then every attendee searches with
one selfie and answers the faces Phopy asks about, from the ground truth, through
Phopy's own ranking (``phopy.faces.search.two_tiers``, what the web page, the REST
API and LINE run). Two attendees: one always right, one wrong 5% of the time; an
impostor says "not me" to every question. Reported per engine and seed, after 0, 1
and 2 rounds of answers: precision and recall of "your photos", the impostor false
match rate (an impostor whose "your photos" is not empty), questions asked per
attendee (mean, 95th percentile), and the ranking's time per round (p95; the
database's part is measured by the HTTP benchmark). Writes
``bench/results_confirm.json`` and the "Is this you?" section of ``bench/RESULTS.md``.
"""
import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from bench import quality
from bench.dataset import REPO_ROOT, resolve_faces_dir
from bench.engines import event_spec, make_settings
from bench.generate import generate_event
from bench.report import put_section
from phopy.faces.models import user_cache_dir

# (label, settings); dlib also at the bands the README recommends for Asian faces
CONFIGS = (("sface", {"engine": "sface"}),
           ("dlib + YuNet", {"engine": "dlib", "detector": "yunet"}),
           ("dlib + YuNet, Asian bands", {"engine": "dlib", "detector": "yunet",
                                          "tolerance": 0.40, "borderline": 0.62}))
ROUNDS = (0, 1, 2)
POLICIES = (("always right", 0.0), ("5% wrong", 0.05))
MAX_ASKED = 12
START, END = "<!-- confirm:start -->", "<!-- confirm:end -->"


def face_people(truth, analyses, photos):
    """The person (or None) of each face row, in ``IndexedEvent`` row order."""
    people = []
    for photo in photos:
        faces = analyses.get(photo, [])
        truth_faces = truth["photo_faces"][photo]
        pairs = {b: t for t, b in quality.match_detections(truth_faces, [b for b, _ in faces])
                 .items()}
        people += [truth_faces[pairs[i]]["person"] if i in pairs else None
                   for i in range(len(faces))]
    return people


def build_index(truth, analyses, settings):
    """FaceIndex of the event (face id = row, photo id = photo number), the person of
    each face, the photo files."""
    from phopy.faces import FaceIndex
    photos = sorted(analyses)
    rows = [(p, box, enc) for p in photos for box, enc in analyses[p]]
    size = settings.profile.size
    encodings = (np.asarray([r[2] for r in rows], dtype=np.float32).reshape(-1, size)
                 if rows else np.zeros((0, size), np.float32))
    number = {p: i for i, p in enumerate(photos)}
    index = FaceIndex(np.arange(len(rows)), [number[r[0]] for r in rows], encodings,
                      engine=settings.profile)
    return index, face_people(truth, analyses, photos), photos


def attend(index, people, person, selfie, settings, rounds, wrong, rng, impostor):
    """One attendee's search and answers; per round: (photo ids shown, questions, s)."""
    from phopy.faces.search import two_tiers
    answers, queries, out, asked_total = {}, [selfie], [], 0
    for n in range(max(rounds) + 1):
        start = time.perf_counter()
        yours, asked = two_tiers(index, queries, settings.tolerance, settings.borderline,
                                 answers, MAX_ASKED)
        seconds = time.perf_counter() - start
        out.append(({p for p, *_ in yours}, asked_total, seconds))
        for match in asked:
            right = (not impostor) and people[match.face_id] == person
            says_me = right if rng.random() >= wrong else not right
            if impostor:
                says_me = False
            answers[match.photo_id] = (match.face_id, "me" if says_me else "not_me")
            if says_me:
                queries.append(index.encodings[match.face_id])
        asked_total += len(asked)
    return out


def score(truth, photos, shown_by_person, impostors):
    """Precision, recall and impostor rate of one round, with quality's definitions."""
    results = {person: [photos[p] for p in shown] for person, shown in shown_by_person.items()}
    s = quality.score_queries(truth, results, 1)
    groups = quality.score_groups(truth, results, 1)
    keys = ("micro_precision", "micro_recall", "impostor_false_match_rate")
    return {**{k: s[k] for k in keys}, **{g: {k: v[k] for k in keys}
                                         for g, v in groups.items()}}


def simulate(index, face_person, people, selfies, settings, truth, photos, wrong, rng):
    """Every attendee and impostor of one event through the rounds; a dict per round."""
    per_round = [dict() for _ in ROUNDS]
    questions = [[] for _ in ROUNDS]
    seconds = []
    empty_impostors = [0 for _ in ROUNDS]
    for person, selfie_file, impostor in people:
        selfie = selfies.get(selfie_file)
        if selfie is None:
            for r in ROUNDS:
                per_round[r][person] = set()
            continue
        rounds = attend(index, face_person, person, selfie, settings, ROUNDS, wrong, rng,
                        impostor)
        for r in ROUNDS:
            shown, asked, secs = rounds[r]
            per_round[r][person] = shown
            seconds.append(secs)
            if impostor:
                empty_impostors[r] += not shown
            else:
                questions[r].append(asked)
    n_impostors = sum(1 for *_x, i in people if i)
    out = [{"round": r, **score(truth, photos, per_round[r], None),
            "questions_mean": float(np.mean(questions[r])) if questions[r] else 0.0,
            "questions_p95": float(np.percentile(questions[r], 95)) if questions[r] else 0.0,
            "impostor_yours_empty": empty_impostors[r] / n_impostors if n_impostors else 1.0}
           for r in ROUNDS]
    out[0]["rank_p95_ms"] = float(np.percentile(seconds, 95) * 1000) if seconds else 0.0
    return out


def _mean_rounds(draws):
    """Per round, the mean of every figure over the draws (nested dicts too), with the
    number of draws and the lowest precision among them."""
    def mean(values):
        if isinstance(values[0], dict):
            return {k: mean([v[k] for v in values]) for k in values[0]}
        return float(np.mean(values)) if isinstance(values[0], float) else values[0]
    out = []
    for r in range(len(draws[0])):
        rows = [d[r] for d in draws]
        out.append({**mean(rows), "draws": len(rows),
                    "precision_min": min(x["micro_precision"] for x in rows)})
    return out


def run(options, model_dir, log=print):
    from bench.throughput import analyze_selfies, index_with_phopy
    procs = options.processes or None
    out = {"options": vars(options).copy(), "configs": {}}
    configs = [(label, make_settings(values, model_dir)) for label, values in CONFIGS]
    for seed in options.seeds:
        spec = event_spec(options, seed)
        root = Path(options.out) / f"engines_seed{seed}"
        truth = generate_event(resolve_faces_dir(), root, spec, procs)
        truth["photo_faces"] = {p["file"]: p["faces"] for p in truth["photos"]}
        paths = [str(root / p["file"]) for p in truth["photos"]]
        people = [(p["person"], p["selfies"][0], False) for p in truth["attendees"]]
        people += [(p["person"], p["selfies"][0], True) for p in truth["impostors"]]
        for label, settings in configs:
            # the faces depend on the engine and detector only, not on the bands
            cache = root / f"confirm_{label.split(',')[0].replace(' + ', '_')}.pickle"
            if options.reuse and cache.exists():  # this seed's faces, as indexed before
                analyses, selfies = pickle.loads(cache.read_bytes())
            else:
                indexed = index_with_phopy(paths, settings, procs)
                analyses = {os.path.relpath(p, root): f for p, f in indexed["analyses"].items()}
                encs, _ = analyze_selfies([str(root / f) for _p, f, _i in people], settings,
                                          procs)
                selfies = {os.path.relpath(p, root): e for p, e in encs.items()}
                cache.write_bytes(pickle.dumps((analyses, selfies)))
            index, face_person, photos = build_index(truth, analyses, settings)
            row = {"seed": seed, "tolerance": settings.tolerance,
                   "borderline": settings.borderline, "policies": {}}
            for policy, wrong in POLICIES:
                # an attendee who is sometimes wrong: the mean of several draws of their
                # mistakes (one draw is mostly luck), and the worst draw's precision
                draws = [simulate(index, face_person, people, selfies, settings, truth, photos,
                                  wrong, np.random.default_rng(seed * 7919 + int(wrong * 1000)
                                                               + d * 100003))
                         for d in range(options.draws if wrong else 1)]
                row["policies"][policy] = _mean_rounds(draws)
                for r in row["policies"][policy]:
                    log(f"seed {seed} {label} {policy} round {r['round']}: "
                        f"P={r['micro_precision']:.3f} R={r['micro_recall']:.3f} "
                        f"FMR={r['impostor_false_match_rate']:.3f} (Asian "
                        f"P={r['asian']['micro_precision']:.3f} R={r['asian']['micro_recall']:.3f};"
                        f" rest P={r['rest']['micro_precision']:.3f} "
                        f"R={r['rest']['micro_recall']:.3f}) questions "
                        f"{r['questions_mean']:.1f} (p95 {r['questions_p95']:.0f}), "
                        f"impostor tier empty {r['impostor_yours_empty']:.3f}")
            out["configs"].setdefault(label, []).append(row)
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return out


def _judge(ok):
    return "met" if ok else "**missed**"


def render(results):
    """The "Is this you?" section of RESULTS.md, targets judged from the figures."""
    o = results["options"]
    lines = [START, "## Is this you? (a simulated attendee answers)", "",
             f"`python -m bench.confirm`: {o['photos']} photos of {o['width']}×{o['height']}, "
             f"{o['attendees']} attendees and {o['impostors']} impostors per event, seeds "
             f"{', '.join(map(str, o['seeds']))}, one selfie each; Phopy's own ranking "
             "(`two_tiers`), at most 12 questions a round. P/R: \"your photos\"; FMR: "
             "impostors with a non-empty \"your photos\" (they say \"not me\" to every "
             "question); Q: questions asked so far per attendee (mean / p95). The 5%-wrong "
             f"attendee's figures are the mean of {o.get('draws', 1)} draws of their mistakes "
             "(which faces they get wrong is luck: one draw's precision swings by ±0.02), "
             "with the worst draw's precision beside it.", ""]
    for label, rows in results["configs"].items():
        lines += [f"### {label} (tolerance {rows[0]['tolerance']}, asked up to "
                  f"{rows[0]['borderline']})", "",
                  "| seed | attendee | round | P | R | FMR | Asian P / R | rest P / R | Q mean / p95 "
                  "| impostor tier empty |", "|---|---|---|---|---|---|---|---|---|---|"]
        for row in rows:
            for policy, rounds in row["policies"].items():
                for r in rounds:
                    lines.append(
                        f"| {row['seed']} | {policy} | {r['round']} | {_precision(r)} | "
                        f"{r['micro_recall']:.3f} | {r['impostor_false_match_rate']:.3f} | "
                        f"{r['asian']['micro_precision']:.3f} / {r['asian']['micro_recall']:.3f} | "
                        f"{r['rest']['micro_precision']:.3f} / {r['rest']['micro_recall']:.3f} | "
                        f"{r['questions_mean']:.1f} / {r['questions_p95']:.0f} | "
                        f"{r['impostor_yours_empty']:.3f} |")
        lines.append("")
        ranks = [row["policies"][POLICIES[0][0]][0].get("rank_p95_ms", 0) for row in rows]
        lines.append(f"Ranking time per round, p95: {max(ranks):.1f} ms (in memory; the "
                     "database's part of a search is in the HTTP benchmark).")
        lines.append("")
    lines += _targets(results), END
    return "\n".join(lines)


def _precision(r):
    """Precision; over several draws, their mean and the worst draw's."""
    if r.get("draws", 1) > 1:
        return f"{r['micro_precision']:.3f} (worst {r['precision_min']:.3f})"
    return f"{r['micro_precision']:.3f}"


def _list(rows, key):
    return ", ".join(f"{r[key]:.3f}" for r in rows)


def _targets(results):
    out = ["### Targets after one round", ""]
    best = results["configs"].get("sface", [])
    if best:
        right = [r["policies"]["always right"][1] for r in best]
        wrong = [r["policies"]["5% wrong"][1] for r in best]
        ok = all(r["micro_recall"] >= 0.99 and r["micro_precision"] >= 0.995 for r in right)
        out.append("- SFace, always-right attendee: recall >= 0.99 and precision >= 0.995 on "
                   f"every seed: {_judge(ok)} (R {_list(right, 'micro_recall')}; "
                   f"P {_list(right, 'micro_precision')})")
        ok = all(r["micro_recall"] >= 0.97 and r["micro_precision"] >= 0.99 for r in wrong)
        out.append("- SFace, 5%-wrong attendee (mean of the draws): recall >= 0.97 and "
                   "precision >= 0.99: "
                   f"{_judge(ok)} (R {_list(wrong, 'micro_recall')}; "
                   f"P {_list(wrong, 'micro_precision')})")
        ok = all(r["questions_mean"] <= 12 for r in right + wrong)
        out.append(f"- <= 12 questions per attendee on average: {_judge(ok)} "
                   f"({_list(right, 'questions_mean')})")
        ok = all(r["impostor_yours_empty"] >= 0.98 for r in right)
        out.append(f"- the impostor's \"your photos\" empty in >= 98%: {_judge(ok)} "
                   f"({_list(right, 'impostor_yours_empty')})")
    for label in ("dlib + YuNet", "dlib + YuNet, Asian bands"):
        dlib = results["configs"].get(label, [])
        if dlib:
            right = [r["policies"]["always right"][1] for r in dlib]
            ok = all(r["micro_recall"] >= 0.95 and r["micro_precision"] >= 0.99 for r in right)
            out.append(f"- {label} (tolerance {dlib[0]['tolerance']}, asked up to "
                       f"{dlib[0]['borderline']}): recall >= 0.95 at precision >= 0.99: "
                       f"{_judge(ok)} (R {_list(right, 'micro_recall')}; "
                       f"P {_list(right, 'micro_precision')})")
    return "\n".join(out) + "\n"


def write(results, report_dir):
    report_dir = Path(report_dir)
    (report_dir / "results_confirm.json").write_text(json.dumps(results, indent=1))
    put_section(report_dir / "RESULTS.md", START, END, render(results))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.confirm", description=__doc__)
    p.add_argument("--photos", type=int, default=80)
    p.add_argument("--attendees", type=int, default=40)
    p.add_argument("--impostors", type=int, default=45)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--width", type=int, default=4000)
    p.add_argument("--height", type=int, default=3000)
    p.add_argument("--selfie-size", type=lambda t: tuple(int(v) for v in t.split(",")),
                   default=(3000, 4000))
    p.add_argument("--processes", type=int, default=0)
    p.add_argument("--out", default=str(REPO_ROOT / "bench" / "out"))
    p.add_argument("--model-dir", default=str(user_cache_dir()))
    p.add_argument("--report-dir", default=str(REPO_ROOT / "bench"))
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--draws", type=int, default=10,
                   help="draws of the 5%%-wrong attendee's mistakes, averaged")
    p.add_argument("--reuse", action="store_true",
                   help="reuse the faces found by an earlier run on the same events "
                        "(bench/out/engines_seed*/confirm_*.pickle): ranking changes only")
    args = p.parse_args(argv)
    if args.report_only:
        results = json.loads((Path(args.report_dir) / "results_confirm.json").read_text())
    else:
        args.seeds = tuple(int(s) for s in args.seeds.split(",") if s)
        options = argparse.Namespace(**{k: v for k, v in vars(args).items()
                                        if k not in ("model_dir", "report_dir", "report_only")})
        options.baseline_photos = 0
        results = run(options, Path(args.model_dir), log=lambda s: print(s, flush=True))
    write(results, args.report_dir)
    print(f"wrote {Path(args.report_dir) / 'RESULTS.md'} and results_confirm.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
