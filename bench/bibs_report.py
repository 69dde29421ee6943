"""The "Race bibs" section of ``bench/RESULTS.md`` and ``results_bibs.json``
(``python -m bench.bibs``): figures per seed, the targets of issue 23 judged on
the worst seed."""
import json
import re
from pathlib import Path

START, END = "<!-- bibs:start -->", "<!-- bibs:end -->"
TITLE = "## Race bibs (`python -m bench.bibs`)"
LARGE = ("40-59", "60-89", "90+")   # bibs >= 40 px


def _sum(bands, names):
    rows = [bands[n] for n in names if n in bands]
    return {k: sum(r[k] for r in rows) for k in ("bibs", "found", "readings", "right")}


def _p(row):
    return row["right"] / row["readings"] if row["readings"] else 1.0


def _r(row):
    return row["found"] / row["bibs"] if row["bibs"] else 1.0


def judge(results):
    """(label, figure, met/missed) per target; the worst seed decides."""
    ev = results["events"]
    large = [_sum(e["reading"], LARGE) for e in ev]
    p40, r40 = min(_p(x) for x in large), min(_r(x) for x in large)
    pbib = min(e["by_bib"]["precision"] for e in ev)
    gain = min(e["fused"]["recall"] - e["face_alone"]["recall"] for e in ev)
    prec_ok = all(e["fused"]["precision"] >= e["face_alone"]["precision"] for e in ev)
    ratio = max(e["ratio"] for e in ev)

    def status(ok):
        return "met" if ok else "MISSED"
    return [("bib-read precision, bibs >= 40 px (>= 0.99)", f"{p40:.3f}", status(p40 >= 0.99)),
            ("bib-read recall, bibs >= 40 px (>= 0.90)", f"{r40:.3f}", status(r40 >= 0.90)),
            ("search-by-bib precision (>= 0.99)", f"{pbib:.4f}", status(pbib >= 0.99)),
            ("fused recall - face-alone recall (>= 0.05, precision not lower)",
             f"{gain:+.3f}" + ("" if prec_ok else ", precision lower"),
             status(gain >= 0.05 and prec_ok)),
            ("time bibs add to indexing per photo (<= 50%)", f"{ratio:.0%}",
             status(ratio <= 0.50))]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def render(results, notes=""):
    ev = results["events"]
    o = results["options"]
    lines = [START, TITLE, "",
             f"Generated race photos (`bench.bibs_draw`), {len(ev)} seeds × {o['photos']} photos "
             f"of {o['width']}×{o['height']}, {o['attendees']} attendees and {o['impostors']} "
             f"impostors per event plus bystanders, up to 4 runners a photo; indexed with "
             f"SFace (`FacePool`, {o['processes'] or 'all'} processes) and read with the "
             f"`read_bibs` job's code (`phopy.bibs.reading.read_task` on the same "
             f"`FacePool` processes that indexed the faces, as a runner's one pool, one photo "
             f"and one OCR thread each, RapidOCR, no start list; the faces' time includes "
             f"starting the pool, the bibs' loading the OCR models). Machine: "
             f"{results['machine']['logical_cores']} logical cores (shared). Finished "
             f"{results.get('finished', '?')}.", "", "### Targets (worst seed)", ""]
    lines += _table(("target", "figure", ""), judge(results))
    lines += ["", "### Bib reading by digit height (px)", "",
              "Recall: visible bibs read with their number at their place; precision: "
              "readings that are the bib at their place (a chip strip, a misread digit or "
              "a number read off the background counts against).", ""]
    bands = sorted({b for e in ev for b in e["reading"]},
                   key=lambda b: int(re.sub(r"\D.*", "", b.lstrip("<")) or 0))
    rows = []
    for b in bands:
        cells = [b]
        for e in ev:
            x = e["reading"].get(b)
            if x is not None and b == "held for review":  # not searchable: no P or R
                cells.append(f"{x['readings']} readings")
                continue
            cells.append("–" if x is None else
                         f"P {_p(x):.3f} ({x['right']}/{x['readings']}), "
                         f"R {_r(x):.3f} ({x['found']}/{x['bibs']})")
        rows.append(cells)
    rows.append(["≥ 40"] + [f"P {_p(x):.3f}, R {_r(x):.3f}"
                            for x in (_sum(e["reading"], LARGE) for e in ev)])
    lines += _table(["band"] + [f"seed {e['seed']}" for e in ev], rows)
    lines += ["", "### Searches", "",
              "By bib: every runner's number, as `phopy.bibs.search.find_by_bib` (photos "
              "where it was read + photos of the faces that wore it). Face alone: one "
              "selfie per attendee at SFace's tolerance; fused: plus the photos of the bibs "
              "read under the matched faces (`add_bib_photos`).", ""]
    rows = []
    for e in ev:
        b, f, u = e["by_bib"], e["face_alone"], e["fused"]
        rows.append((e["seed"], f"{b['precision']:.3f}", f"{b['recall']:.3f}",
                     f"{f['precision']:.3f}", f"{f['recall']:.3f}", f"{u['precision']:.3f}",
                     f"{u['recall']:.3f}", f"{u['recall'] - f['recall']:+.3f}"))
    lines += _table(("seed", "by bib P", "by bib R", "face P", "face R", "fused P",
                     "fused R", "gain"), rows)
    lines += ["", "### Time", ""]
    lines += ["Per photo: seconds a photo takes in its process, once the models are loaded "
              "(the first photo each process took, which loaded them, left out), faces and "
              "bibs alike; the target is judged on it. Run: the wall time of this run's "
              "few photos, start-ups in (the pool's for faces, the OCR models' for bibs), "
              "which an event of hundreds of photos spreads thin.", ""]
    rows = [(e["seed"], e["photos"], e["runners"], f"{e['face_seconds']:.1f}",
             f"{e['ocr_seconds']:.1f}", f"{e.get('ratio_run', e['ratio']):.0%}",
             f"{e['face_per_photo']:.3f}" if "face_per_photo" in e else "–",
             f"{e['ocr_per_photo']:.3f}", f"{e['ocr_p95']:.2f}",
             f"{e['ratio']:.0%}", f"{e['detection']['face_recall']:.3f}") for e in ev]
    lines += _table(("seed", "photos", "runners", "run: faces s", "run: bibs s", "run: bibs add",
                     "faces s/photo", "bibs s/photo", "bibs p95 s", "bibs add per photo",
                     "face recall"), rows)
    if notes:
        lines += ["", notes.strip()]
    return "\n".join(lines + [END])


def write(results, report_dir):
    """Write results_bibs.json and the section, appended at the end of RESULTS.md (or in
    place of an earlier one); return the judged targets."""
    report_dir = Path(report_dir)
    (report_dir / "results_bibs.json").write_text(json.dumps(
        results, indent=1, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
    path = report_dir / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    notes = report_dir / "notes_bibs.md"
    section = render(results, notes.read_text() if notes.is_file() else "")
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text,
                      flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    return judge(results)
