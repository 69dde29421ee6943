"""The "Search cache" section of ``bench/RESULTS.md`` and ``results_cache.json``
(``python -m bench.cache``)."""
import json
from pathlib import Path

from bench.report import put_section

START, END = "<!-- cache:start -->", "<!-- cache:end -->"
TARGETS = (  # (label, figure, limit): every one "at most"
    ("cold load of the event (s)", ("cold_load", "new_s"), 1.0),
    ("a new photo's faces in a warm cache (ms)", ("new_photo", "incremental_ms"), 50.0),
    ("database time a selfie search adds (ms)", ("search_db", "new_ms"), 20.0),
)


def judge(results):
    """[(label, engine, figure, limit, 'met'|'MISSED')] for every target and engine."""
    rows = []
    for label, (part, key), limit in TARGETS:
        for engine in results["engines"]:
            value = engine[part][key]
            rows.append((label, f"{engine['engine']} ({engine['size']}-d)", _num(value),
                         f"<= {limit:g}", "met" if value <= limit else "MISSED"))
    return rows


def _num(value):
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 \
        else f"{value:.3f}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def render(results):
    m, o = results["machine"], results["options"]
    faces = o["photos"] * o["faces_per_photo"]
    lines = [START, "## Search cache (`python -m bench.cache`)", "",
             f"One event of {o['photos']:,} photos × {o['faces_per_photo']} faces "
             f"({faces:,} faces of random unit vectors, a few planted people), written "
             "straight into a throwaway PostgreSQL (`bench/cache_data.py`); Phopy's own code "
             "measured against the code it replaced, in the same run. Machine: "
             f"{m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, load average "
             f"{' / '.join(map(str, m['load_before']))} before and "
             f"{' / '.join(map(str, m.get('load_after', [])))} after (1/5/15 min; the "
             "cores are shared with other work).", "",
             _table(("target", "engine", "figure", "limit", ""), judge(results)), ""]
    rows = []
    for e in results["engines"]:
        c, p, s, t, mem = (e["cold_load"], e["new_photo"], e["search_db"], e["two_tiers"],
                           e["memory"])
        rows.append((f"{e['engine']} ({e['size']}-d)",
                     f"{c['new_s']:.2f} s (one COPY: "
                     + (f"{c['one_copy_s']:.2f} s; " if "one_copy_s" in c else "n/a; ")
                     + f"rows: {c['old_s']:.2f} s, {c['speedup']:.1f}×)",
                     f"{p['incremental_ms']:.1f} ms (copying: {p['copying_append_ms']:.0f} ms;"
                     f" full reload {p['full_reload_ms']:,.0f} ms)",
                     f"{s['new_ms']:.1f} ms, {s['statements']:.0f} statements (before: "
                     f"{s['old_ms']:.1f} ms with the summary's {s['summary_ms']:.1f})",
                     f"{t['ms']:,.0f} ms (one query at a time: {t['per_query_ms']:,.0f} ms;"
                     f" rows of {t['yours']} faces: isin {t['isin_ms']:.2f} → "
                     f"{t['rows_of_ms']:.2f} ms)",
                     f"{mem['index_mb']:,.0f} MB ({mem['arrays_mb']:,.0f} without spare rows;"
                     f" RSS +{mem['rss_growth_mb']:,.0f})"))
    lines += [_table(("engine", "cold load (median of "
                      f"{o['repeats']})", f"a new photo (median of {o['refreshes']})",
                      f"search DB time (median of {o['searches']})", "two_tiers",
                      "memory per event"), rows), "",
              "Cold load: a new `SearchCache`'s first look-up (version, faces by binary COPY "
              "parsed by NumPy — two halves of the ids over two connections in one "
              "exported snapshot —, index, other engines' count) against the same read "
              "as one COPY and the rows loader it replaced (tuples joined into a matrix), "
              "alternated. A new photo: its 5 faces "
              "stored by `record_scan`, then the look-up that writes them into the index's "
              "spare rows, against appending by copying every array (the old `extended`) "
              "and a full reload. Search DB time: every statement and fetch of "
              "`search_event` on a warm cache (a timing wrapper on the connection's "
              "cursors), the selfie analyser left out; before, each search also counted "
              "the checkpoint summary, now kept per faces version. Memory: the index's "
              "buffers with the prefilter built (an eighth of spare rows), the arrays "
              "alone, and the process's resident growth after a load. two_tiers: one "
              "selfie of a planted person (40 photos), nothing answered yet; before, each "
              "of its searches (the selfie twice, then each matched face) was one product "
              "over the index, with the rows a weak prefilter let through copied out (the "
              "512 random values spread over every axis alike, so the prefilter's 32 keep "
              "almost all).", END]
    return "\n".join(lines)


def write(results, report_dir):
    """Write results_cache.json and the section into RESULTS.md; return the judged rows."""
    report_dir = Path(report_dir)
    (report_dir / "results_cache.json").write_text(json.dumps(
        results, indent=1, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
    put_section(report_dir / "RESULTS.md", START, END, render(results))
    return judge(results)
