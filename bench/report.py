"""Turn the results dict into ``RESULTS.md`` tables and ``results.json``."""
import json
import re
from pathlib import Path

import numpy as np

TARGETS = (
    # (label, how to read the figure, comparison, limit)
    ("indexing speed vs baseline (photos/s ratio)", "speedup", ">=", 10.0),
    ("true faces found, Phopy minus baseline (same photos)", "faces_margin", ">=", 0),
    ("precision, 1 selfie (micro, worst seed)", "p1", ">=", 0.99),
    ("recall, 1 selfie (micro, worst seed)", "r1", ">=", 0.90),
    ("recall, 3 selfies (micro, worst seed)", "r3", ">=", 0.95),
    ("impostor false-match rate, 1 selfie (worst seed)", "fmr1", "<=", 0.02),
    ("impostor false-match rate, 3 selfies (worst seed)", "fmr3", "<=", 0.02),
    ("vector search p95 at 100k faces (ms)", "v100k", "<=", 10.0),
    ("vector search p95 at 1M faces (ms)", "v1m", "<=", 30.0),
    ("end-to-end search p95, 1 selfie (ms)", "http1", "<=", 1000.0),
)


def headline(results):
    """The figures the targets are judged on (None where a part was skipped)."""
    s = results.get("events_summary", {})
    base = _ok(results.get("baseline")) or {}
    vec = {row["faces"]: row for row in _ok(results.get("vector_search")) or []}
    http = _ok(results.get("http_search")) or {}
    events = results.get("events") or []
    steady = (float(np.mean([e["photos_per_s"] for e in events])) if events else None)
    fig = {
        "speedup": (steady / base["baseline"]["photos_per_s"]) if base and steady else None,
        "faces_margin": (base["phopy"]["detection"]["true_faces_found"]
                         - base["baseline"]["detection"]["true_faces_found"]) if base else None,
        "p1": s.get("selfies_1_micro_precision", {}).get("min"),
        "r1": s.get("selfies_1_micro_recall", {}).get("min"),
        "r3": s.get("selfies_3_micro_recall", {}).get("min"),
        "fmr1": s.get("selfies_1_impostor_false_match_rate", {}).get("max"),
        "fmr3": s.get("selfies_3_impostor_false_match_rate", {}).get("max"),
        "v100k": vec.get(100_000, {}).get("phopy", {}).get("p95_ms"),
        "v1m": vec.get(1_000_000, {}).get("phopy", {}).get("p95_ms"),
        "http1": http.get("selfies_1", {}).get("p95_ms"),
    }
    return fig


def command_line(options):
    """The ``python -m bench`` flags that reproduce a run (defaults left out)."""
    from bench.run import Options

    default = Options()
    flags = []
    for name in ("photos", "attendees", "impostors", "seeds", "baseline_photos",
                 "baseline_queries", "cli_known", "http_photos", "http_repeats"):
        value, base = options.get(name), getattr(default, name)
        if isinstance(value, list):
            value = tuple(value)
        if value != base and value is not None:
            text = ",".join(map(str, value)) if isinstance(value, tuple) else value
            flags.append(f"--{name.replace('_', '-')} {text}")
    if (options.get("width"), options.get("height")) != (default.width, default.height):
        flags.append(f"--size {options.get('width')},{options.get('height')}")
    if tuple(options.get("selfie_size") or ()) != tuple(default.selfie_size):
        flags.append("--selfie-size " + ",".join(map(str, options["selfie_size"])))
    return " ".join([".venv/bin/python -m bench", *flags])


def _ok(part):
    """The part's results, or None when it was skipped or failed."""
    if not part or (isinstance(part, dict) and "error" in part):
        return None
    return part


def _errors(results):
    rows = [(key, part["error"]) for key, part in results.items()
            if isinstance(part, dict) and "error" in part]
    if not rows:
        return []
    return ["## Parts that did not run", "", _table(("part", "error"), rows), ""]


def judge(results):
    """[(label, figure, limit text, 'met'|'MISSED'|'not run')] for every target."""
    fig = headline(results)
    rows = []
    for label, key, op, limit in TARGETS:
        value = fig[key]
        if value is None:
            rows.append((label, "—", f"{op} {limit}", "not run"))
            continue
        ok = value >= limit if op == ">=" else value <= limit
        rows.append((label, _num(value), f"{op} {limit:g}", "met" if ok else "MISSED"))
    return rows


def _num(value, digits=3):
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _mib(n):
    return f"{n / 2**20:,.0f} MiB"


def render(results, notes=""):
    """The Markdown report."""
    m = results["machine"]
    o = results["options"]
    out = [
        "# Phopy benchmark results",
        "",
        f"Machine: **{m['cpu_model']}**, {m['logical_cores']} logical cores "
        f"({m['physical_cores']} physical), {m['memory_gib']} GiB RAM; Python {m['python']}, "
        f"dlib {m['dlib']}, numpy {m['numpy']}. Run {results['started']} – "
        f"{results.get('finished', '?')}.",
        "",
        f"Command: `{command_line(o)}` — events of {o['photos']} photos "
        f"({o['width']}×{o['height']} JPEG q90), {o['attendees']} attendees, "
        f"{o['impostors']} impostors, seeds {', '.join(map(str, o['seeds']))}. "
        "Everything compared below was measured in this one run on the same photos.",
        "",
        *(["The three events' Phopy indexes (and their timings, in the per-event table) "
           "were measured by an earlier pass of the same command with the same engine and "
           "reused (`--reuse`) when the matcher changed; everything else, including the "
           "Phopy-vs-baseline speed comparison, was measured in this run.", ""]
          if o.get("reuse") else []),
        "Engine settings: " + ", ".join(f"{k}={v}" for k, v in
                                        results["engine_settings"].items()),
        "",
        "## Targets",
        "",
        _table(("target", "figure", "limit", "status"), judge(results)),
        "",
    ]
    if notes:
        out += ["## What limits it", "", notes.strip(), ""]
    out += _throughput(results) + _quality(results) + _groups(results) + _latency(results)
    out += _memory(results) + _errors(results) + _method(results)
    return "\n".join(out) + "\n"


def _throughput(results):
    out = ["## Indexing throughput", ""]
    base = _ok(results.get("baseline"))
    if base:
        rows = []
        for name, label in (("baseline", "baseline (original pipeline, 1 process)"),
                            ("phopy", "Phopy (FacePool, all cores)")):
            r = base[name]
            d = r["detection"]
            q = r["selfies_1"]
            rows.append((label, _num(r["photos_per_s"]), _num(r["faces_per_s"]),
                         f"{d['true_faces_found']}/{d['true_faces']}", d["false_detections"],
                         _num(q["micro_precision"]), _num(q["micro_recall"]),
                         _num(r["tolerance"], 2)))
        cli = _ok(results.get("cli"))
        if cli:
            q = cli["selfies_1"]
            rows.append((f"face_recognition CLI --cpus {cli['cpus']} (downsizes to 1600 px)",
                         _num(cli["photos_per_s"]), "—", "—", "—",
                         _num(q["micro_precision"]), _num(q["micro_recall"]), "0.5"))
        out += [
            f"Same {base['photos']} photos (the first of seed {results['options']['seeds'][0]}), "
            f"{base['queries']} attendee queries with one selfie and "
            f"{base['impostor_queries']} impostors. The baseline takes "
            f"~{1 / base['baseline']['photos_per_s']:.1f} s a photo, so it runs on this subset "
            "only. Phopy's steady rate is its rate over the whole events (same kind of photos, "
            "pool start-up spread over 200+ photos): "
            f"{headline(results)['speedup'] * base['baseline']['photos_per_s']:.2f} photos/s, "
            f"**{headline(results)['speedup']:.1f}× the baseline per photo**. On the 16-photo "
            f"subset alone, where starting the worker processes and loading the models "
            f"weighs in, it is {base['speedup_photos_per_s']:.1f}× (row below).",
            "",
            _table(("pipeline", "photos/s", "faces/s", "true faces found", "false detections",
                    "precision", "recall", "tolerance"), rows),
            "",
        ]
        variants = base.get("variants") or []
        if variants:
            vrows = [(f"{v['detect_max_side']} / {v['upsample']}", _num(v["photos_per_s"]),
                      f"{v['speedup']:.1f}×",
                      f"{v['detection']['true_faces_found']}/{v['detection']['true_faces']}",
                      " · ".join(f"{k}: {_num(r, 2)}"
                                 for k, r in v["detection"]["face_recall_by_size"].items()))
                     for v in variants]
            out += ["Other detection scales on the same photos (Phopy, all cores, start-up "
                    "included as in the subset row above):", "",
                    _table(("detect_max_side / upsample", "photos/s", "vs baseline",
                            "true faces found", "face recall by size"), vrows), ""]
        if cli:
            out += [f"The CLI's time excludes scanning its {cli['known_people']} known "
                    f"selfies (estimated at the baseline's {cli['known_scan_estimate_s']:.0f} s "
                    f"of {cli['seconds_total']:.0f} s total); its recall counts the known "
                    "people only.", ""]
    rows = []
    for e in results.get("events", []):
        d = e["detection"]
        rows.append((e["seed"], e["photos"], _num(e["index_seconds"]), _num(e["photos_per_s"]),
                     _num(e["faces_per_s"]), f"{d['true_faces_found']}/{d['true_faces']}",
                     _num(d["face_recall"]), d["false_detections"],
                     _num(e["selfie_seconds_mean"])))
    out += ["Full events through Phopy:", "",
            _table(("seed", "photos", "seconds", "photos/s", "faces/s", "true faces found",
                    "face recall", "false detections", "s per selfie"), rows), ""]
    return out


def _quality(results):
    events = results.get("events", [])
    if not events:
        return []
    tol = results["engine_settings"]["tolerance"]
    out = ["## Match quality", "",
           f"Operating point: tolerance {tol}. Macro precision counts a query that "
           "returns nothing as precision 1. Impostor false-match rate: share of impostor "
           "queries that return any photo.", ""]
    rows = []
    for e in events:
        for n in (1, 3):
            q = e[f"selfies_{n}"]
            rows.append((e["seed"], n, _num(q["micro_precision"]), _num(q["micro_recall"]),
                         _num(q["macro_precision"]), _num(q["macro_recall"]),
                         _num(q["impostor_false_match_rate"]),
                         f"{q['true_positives']}/{q['false_positives']}/{q['false_negatives']}"))
    out += [_table(("seed", "selfies", "micro P", "micro R", "macro P", "macro R",
                    "impostor FMR", "TP/FP/FN"), rows), ""]
    s = results["events_summary"]
    rows = [(f"{n} selfie{'s' if n > 1 else ''}",
             *(f"{_num(s[f'selfies_{n}_{k}']['mean'])} ({_num(s[f'selfies_{n}_{k}']['min'])}–"
               f"{_num(s[f'selfies_{n}_{k}']['max'])})"
               for k in ("micro_precision", "micro_recall", "impostor_false_match_rate")))
            for n in (1, 3)]
    out += [f"Over {len(events)} events (mean, min–max):", "",
            _table(("", "precision", "recall", "impostor FMR"), rows), ""]
    buckets = list(events[0]["selfies_1"]["recall_by_size"])
    rows = []
    for b in buckets:
        det = [e["detection"]["face_recall_by_size"].get(b) for e in events]
        r1 = [e["selfies_1"]["recall_by_size"].get(b) for e in events]
        r3 = [e["selfies_3"]["recall_by_size"].get(b) for e in events]
        rows.append((b, *(_num(float(np.mean([v for v in vals if v is not None])))
                          for vals in (det, r1, r3))))
    out += ["Recall by face size in the event photo (mean over events):", "",
            _table(("face size", "face found (detection)", "recall, 1 selfie",
                    "recall, 3 selfies"), rows), ""]
    rows = []
    for i, point in enumerate(events[0]["sweep_1"]):
        cells = [_num(point["tolerance"], 3)]
        for n in (1, 3):
            pts = [e[f"sweep_{n}"][i] for e in events]
            cells += [_num(float(np.mean([p[k] for p in pts])))
                      for k in ("micro_precision", "micro_recall", "impostor_false_match_rate")]
        mark = " ◀ shipped" if abs(point["tolerance"] - tol) < 1e-6 else ""
        rows.append((cells[0] + mark, *cells[1:]))
    out += ["Precision/recall over the tolerance range (mean over events):", "",
            _table(("tolerance", "P (1)", "R (1)", "FMR (1)", "P (3)", "R (3)", "FMR (3)"),
                   rows), ""]
    return out


def _groups(results):
    g = _ok(results.get("groups"))
    if not g:
        return []
    rows = []
    for person in g["phopy"]:
        cells = [person]
        for name in ("phopy", "baseline"):
            r = g[name][person]
            cells.append(f"{'ok' if r['ok'] else 'wrong'}: found {len(r['found'])}/"
                         f"{len(r['expected'])}, wrong {len(r['wrong'])}")
        rows.append(cells)
    return ["## Named group photos", "",
            "Index: all of `group_photos/`; queries: face_recognition's knn training "
            "photos of each person (all of them as selfies).", "",
            _table(("person", "Phopy", "baseline"), rows), ""]


def _latency(results):
    out = []
    vec = _ok(results.get("vector_search"))
    if vec:
        rows = [(f"{r['faces']:,}", _num(r["phopy"]["p50_ms"]), _num(r["phopy"]["p95_ms"]),
                 _num(r["face_distance"]["p50_ms"]), _num(r["face_distance"]["p95_ms"]),
                 _num(r["face_distance"]["p95_ms"] / r["phopy"]["p95_ms"], 1),
                 _num(r["index_build_s"])) for r in vec]
        out += ["## Search latency", "",
                "Vector search alone: `match_photos(index, [selfie], tolerance)` against "
                "`face_recognition.face_distance(encodings, selfie) <= tolerance` on the same "
                "float32 matrix. Vectors are random draws from a Gaussian fitted to the "
                "event's real encodings, with a few planted near matches.", "",
                _table(("faces", "Phopy p50 ms", "Phopy p95 ms", "face_distance p50 ms",
                        "face_distance p95 ms", "p95 ratio", "FaceIndex() s"), rows),
                "", "FaceIndex() s: building the index; the projection of large indexes is "
                "built by their first search, which is not timed.", ""]
    http = results.get("http_search")
    if http:
        if "error" in http:
            out += ["End-to-end HTTP search: **not measured** — " + http["error"], ""]
        else:
            rows = [(n, _num(http[f"selfies_{n}"]["p50_ms"]), _num(http[f"selfies_{n}"]["p95_ms"]),
                     http[f"selfies_{n}"]["runs"],
                     _num(http[f"selfies_{n}"]["mean_photos_returned"], 1)) for n in (1, 3)]
            out += ["End-to-end: `POST /api/events/<id>/search` on the running app "
                    "(gunicorn, 1 worker) with 3000×4000 JPEG selfies, event imported with "
                    f"`import-folder --wait` ({http['import_seconds']:.0f} s).", "",
                    _table(("selfies", "p50 ms", "p95 ms", "runs", "photos returned"), rows),
                    ""]
    return out


def _memory(results):
    mem = _ok(results.get("memory"))
    if not mem:
        return []
    c = mem["search_cache"]
    return ["## Memory", "",
            _table(("what", "resident size"),
                   [("search cache per 100k faces (RSS growth)",
                     _mib(c["rss_bytes_per_100k"])),
                    ("FaceIndex.nbytes per 100k faces", _mib(c["index_nbytes_per_100k"])),
                    ("peak RSS while indexing (all processes)",
                     _mib(mem["peak_rss_indexing_bytes"]))]), ""]


def _method(results):
    return ["## How the events are made", "",
            "`bench/generate.py`, deterministic by seed: LFW photos (only those with one "
            "face HOG can see) pasted with a soft oval mask onto upscaled no-face photos or "
            "drawn backgrounds, with sensor-like noise; face size = the width of the box "
            "dlib reports, 50–300 px log-uniform; 1–8 people a photo; each attendee in 2–6 "
            "photos using two of their LFW photos, the other three held out as 3000×4000 "
            "selfies; bystanders fill the rest; impostors appear nowhere. Detections count "
            "as a true face when their centre is in the true box and their width is within "
            "2× of it.", ""]


def write(results, out_dir, notes=""):
    """Write ``results.json`` and ``RESULTS.md`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=_default))
    target = out_dir / "RESULTS.md"
    target.write_text(render(results, notes) + kept_sections(target))


# Sections that other bench modules write into RESULTS.md, each between its markers
# (bench.drive's figures are pasted by hand between the drive markers).
KEPT_SECTIONS = (("<!-- drive:start -->", "<!-- drive:end -->"),
                 ("<!-- venue:start -->", "<!-- venue:end -->"),
                 ("<!-- distributed -->", "<!-- /distributed -->"),
                 ("<!-- engines:start -->", "<!-- engines:end -->"),
                 ("<!-- confirm:start -->", "<!-- confirm:end -->"),
                 ("<!-- memory-limits:start -->", "<!-- memory-limits:end -->"),
                 ("<!-- bibs:start -->", "<!-- bibs:end -->"),
                 ("<!-- cache:start -->", "<!-- cache:end -->"),
                 ("<!-- storage:start -->", "<!-- storage:end -->"))


def put_section(path, start_mark, end_mark, section):
    """Put ``section`` (which starts and ends with its markers) into the RESULTS.md at
    ``path``: in place of the old one between the same markers, else at the end."""
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    if start_mark in text:
        text = re.sub(re.escape(start_mark) + ".*?" + re.escape(end_mark), lambda _: section,
                      text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def kept_sections(path):
    """The other modules' sections of RESULTS.md, kept across re-renders, in their order."""
    text = path.read_text() if path.exists() else ""
    found = []
    for start_mark, end_mark in KEPT_SECTIONS:
        start, end = text.find(start_mark), text.find(end_mark)
        if start != -1 and end > start:
            found.append((start, text[start:end + len(end_mark)]))
    return "".join("\n\n" + section for _, section in sorted(found)) + ("\n" if found else "")


def _default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value))
