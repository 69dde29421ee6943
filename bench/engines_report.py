"""The "Face engines" section of bench/RESULTS.md, from ``bench.engines``' results.

Every matching figure is given for the East and Southeast Asian people of the
events and for the rest apart, as well as overall, per seed: a target missed
only on the Asian people is missed. The tolerance each engine could ship with
is read from its sweep (``best_tolerance``).
"""
import numpy as np

START, END = "<!-- engines:start -->", "<!-- engines:end -->"
GROUPS = (("Asian", "asian"), ("rest", "rest"))
# Issue 21's targets, one selfie, no questions, on each group and every seed.
TARGET_PRECISION, TARGET_FMR, TARGET_RECALL = 0.99, 0.02, 0.90
FULL = (("photos", 300), ("attendees", 100), ("impostors", 50))


def _f(value, digits=3):
    return f"{value:.{digits}f}"


def _seeds(values, digits=3):
    return " / ".join(_f(v, digits) for v in values)


def shipped_tolerance(config):
    """The engine's default tolerance now (``phopy.faces.settings.PROFILES``)."""
    from phopy.faces.settings import PROFILES
    return PROFILES[config["settings"]["engine"]].tolerance


def at_tolerance(event, n, tolerance, group=None):
    """An event's scores with n selfies at ``tolerance`` (of one group if named):
    its sweep row, else its run at the shipped tolerance."""
    for row in event[f"sweep_{n}"]:
        if abs(row["tolerance"] - tolerance) < 1e-9:
            return row[group] if group else row
    return event[f"groups_{n}"][group] if group else event[f"selfies_{n}"]


def meets(row):
    """True when one sweep row meets the precision and impostor targets on both groups."""
    return all(row[g]["micro_precision"] >= TARGET_PRECISION
               and row[g]["impostor_false_match_rate"] <= TARGET_FMR for _, g in GROUPS)


def best_tolerance(config):
    """The sweep's tolerance meeting the precision and impostor targets on both groups
    and every seed with the highest worst-group recall; (tolerance, rows per seed) or
    (None, None) when no tolerance does."""
    events = config["events"]
    found = []
    for i, row in enumerate(events[0]["sweep_1"]):
        rows = [e["sweep_1"][i] for e in events]
        if all(meets(r) for r in rows):
            found.append((min(r[g]["micro_recall"] for r in rows for _, g in GROUPS),
                          row["tolerance"], rows))
    if not found:
        return None, None
    top = max(recall for recall, _, _ in found)
    tied = [(tol, rows) for recall, tol, rows in found if recall == top]
    return tied[(len(tied) - 1) // 2]  # the middle of a tie: margin on both sides


def default_engine():
    from phopy.faces.settings import DEFAULT_ENGINE
    return DEFAULT_ENGINE


def render(results, notes=""):
    """The markdown section for RESULTS.md, hand-written ``notes`` at its end."""
    o = results["options"]
    base = results["baseline"]
    seeds = ", ".join(str(s) for s in o["seeds"])
    people = results.get("people", [])
    reduced = any(o[k] < full for k, full in FULL)
    lines = [START, "## Face engines side by side (`python -m bench`; this part alone: "
             "`python -m bench.engines`)", "",
             f"One run, the same generated events for every engine: seeds {seeds}, "
             f"{o['photos']} photos of {o['width']}x{o['height']} each, {o['attendees']} "
             f"attendees, {o['impostors']} impostors"
             + (" (of them East and Southeast Asian, per seed: "
                + ", ".join(f"{p['asian_attendees']} attendees and {p['asian_impostors']} "
                            f"impostors" for p in people) + ")" if people else "")
             + f"; speed ratio against the original pipeline on the first {base['photos']} "
             f"photos of the first seed. "
             + ("**Reduced sizes**: the events are smaller than the full benchmark's "
                "(300 photos, 100 attendees, 50 impostors). " if reduced else
                "The full benchmark's sizes. ")
             + f"This machine has {results['machine']['logical_cores']} cores; ratios are "
             f"taken within this one run. Finished {results['finished']}.", "",
             "Every figure below is per seed (`seed 1 / seed 2 / …`), for the East and "
             "Southeast Asian people of the events (`lfw_4plus_asian.txt`) and for the rest "
             "apart. P: precision over the group's queries (attendees' and impostors' "
             "returned photos); R: recall of the group's attendees; FMR: share of the group's "
             "impostors who get any photo.", ""]
    lines += _quality_table(results)
    lines += _best_table(results)
    lines += _targets(results)
    lines += _speed_table(results)
    lines += _sweeps(results)
    if notes.strip():
        lines += ["### Why the default is what it is, and what limits it "
                  "(notes, `bench/notes_engines.md`)", "", notes.strip(), ""]
    lines.append(END)
    return "\n".join(lines)


def _quality_table(results):
    lines = ["One selfie at each engine's shipped tolerance:", "",
             "| engine | tolerance | group | P | R | impostor FMR | P / R (3 selfies) |",
             "|---|---|---|---|---|---|---|"]
    for label, config in results["configs"].items():
        ev = config["events"]
        tol = shipped_tolerance(config)
        for name, group in (("all", None),) + GROUPS:
            one = [at_tolerance(e, 1, tol, group) for e in ev]
            three = [at_tolerance(e, 3, tol, group) for e in ev]
            lines.append(
                f"| {label} | {tol} | {name} | {_seeds(r['micro_precision'] for r in one)} | "
                f"{_seeds(r['micro_recall'] for r in one)} | "
                f"{_seeds(r['impostor_false_match_rate'] for r in one)} | "
                f"{_f(np.mean([r['micro_precision'] for r in three]))} / "
                f"{_f(np.mean([r['micro_recall'] for r in three]))} |")
    return lines + [""]


def _best_table(results):
    lines = [f"The tolerance each engine could ship with, from its sweep: precision >= "
             f"{TARGET_PRECISION} and impostor FMR <= {TARGET_FMR:.0%} on both groups and every "
             f"seed, with the highest recall of the worse group (none: no tolerance of the "
             f"sweep reaches the precision and impostor targets on both groups):", "",
             "| engine | tolerance | R Asian | R rest | P Asian | P rest | FMR Asian | "
             f"FMR rest | recall >= {TARGET_RECALL} on both |", "|---|---|---|---|---|---|---|---|---|"]
    for label, config in results["configs"].items():
        tol, rows = best_tolerance(config)
        if tol is None:
            lines.append(f"| {label} | none | | | | | | | **no** |")
            continue
        cells = [_seeds(r[g][k] for r in rows) for k in ("micro_recall", "micro_precision",
                                                         "impostor_false_match_rate")
                 for _, g in GROUPS]
        ok = all(r[g]["micro_recall"] >= TARGET_RECALL for r in rows for _, g in GROUPS)
        lines.append(f"| {label} | {tol} | " + " | ".join(cells)
                     + f" | {'yes' if ok else '**no**'} |")
    return lines + [""]


def _targets(results):
    engine = default_engine()
    label = next((lb for lb, c in results["configs"].items()
                  if c["settings"]["engine"] == engine and c["settings"]["detector"] == "auto"),
                 None)
    lines = [f"Issue 21's targets (one selfie, no questions, default engine `{engine}` at its "
             "shipped tolerance, each group, every seed):", "", "| target | measured | met |",
             "|---|---|---|"]
    if label is None:
        return lines + ["| (the default engine was not measured) | | **no** |", ""]
    config = results["configs"][label]
    tol = shipped_tolerance(config)
    for name, group in GROUPS:
        rows = [at_tolerance(e, 1, tol, group) for e in config["events"]]
        for text, key, ok in (
                (f"precision >= {TARGET_PRECISION}", "micro_precision",
                 lambda v: v >= TARGET_PRECISION),
                (f"impostor false match <= {TARGET_FMR:.0%}", "impostor_false_match_rate",
                 lambda v: v <= TARGET_FMR),
                (f"recall >= {TARGET_RECALL}", "micro_recall", lambda v: v >= TARGET_RECALL)):
            values = [r[key] for r in rows]
            lines.append(f"| {label}, {name}: {text} | {_seeds(values)} | "
                         f"{'yes' if all(ok(v) for v in values) else '**no**'} |")
    return lines + [""]


def _speed_table(results):
    base = results["baseline"]
    cores = results["machine"]["logical_cores"]
    lines = ["Speed and faces found:", "",
             "| engine | true faces found | photos/s (pool) | speed-up vs original (same photos, "
             "one process each; true faces found: engine vs original) | selfie CPU s |",
             "|---|---|---|---|---|"]
    for label, config in results["configs"].items():
        ev = config["events"]
        found = sum(e["detection"]["true_faces_found"] for e in ev)
        total = sum(e["detection"]["true_faces"] for e in ev)
        same = results["same_photos"][label]
        lines.append(
            f"| {label} | {found}/{total} | {_f(np.mean([e['photos_per_s'] for e in ev]), 2)} | "
            f"{_f(same['speedup'], 1)}x ({same['detection']['true_faces_found']} vs "
            f"{base['detection']['true_faces_found']} of {base['detection']['true_faces']}) | "
            f"{_f(same['selfie_cpu_s'])} |")
    pool = {label: np.mean([e["photos_per_s"] for e in config["events"]]) / base["photos_per_s"]
            for label, config in results["configs"].items()}
    best = max(pool, key=pool.get)
    one = results["same_photos"][best]
    base_found = base["detection"]["true_faces_found"]
    ok = pool[best] >= 10 and one["detection"]["true_faces_found"] >= base_found
    lines += ["", "Issue 11's target, judged on this run:", "", "| target | measured | met |",
              "|---|---|---|",
              f"| indexing >= 10x the original pipeline's photos/s, as many true faces ({best}) "
              f"| {_f(pool[best], 1)}x (pool on {cores} cores; {_f(one['speedup'], 1)}x process "
              f"for process), {one['detection']['true_faces_found']} vs {base_found} faces | "
              f"{'yes' if ok else '**no**'} |",
              "", f"Original pipeline: {_f(base['photos_per_s'], 3)} photos/s in one process "
              f"(face_recognition at full resolution, HOG upsample 1). 'photos/s' is Phopy's "
              f"pool on all {cores} cores; the speed-up column compares one process with one "
              f"process, so on a machine with more cores the pool multiplies it.", ""]
    return lines


def _sweeps(results):
    lines = []
    for label, config in results["configs"].items():
        lines += [f"Sweep, {label} (mean over seeds; P / R / impostor FMR):", "",
                  "| tolerance | 1 selfie, all | 1 selfie, Asian | 1 selfie, rest | 3 selfies, all |",
                  "|---|---|---|---|---|"]
        events = config["events"]
        for i, row in enumerate(events[0]["sweep_1"]):
            cells = []
            for n, group in ((1, None), (1, "asian"), (1, "rest"), (3, None)):
                rows = [e[f"sweep_{n}"][i] for e in events]
                rows = [r[group] if group else r for r in rows]
                cells.append(" / ".join(_f(np.mean([r[k] for r in rows])) for k in (
                    "micro_precision", "micro_recall", "impostor_false_match_rate")))
            lines.append(f"| {row['tolerance']} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines
