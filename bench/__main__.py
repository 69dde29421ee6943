"""``python -m bench``: run the benchmark, print the machine, write the report.

The "limits" part runs ``bench.memory_limits`` (a served Phopy's memory under a LINE
bomb selfie, banner downloads, a 200 MB upload and a ZIP; issue 19). The "engines"
part runs ``bench.engines`` on the same events (same seeds and sizes): both face
engines and dlib with YuNet beside the original pipeline. The "bibs" part runs
``bench.bibs`` (generated race photos, same seeds).
"""
import argparse
import json
import sys
from pathlib import Path

from bench.dataset import REPO_ROOT
from bench.run import Options, run_benchmark
from bench import bibs, engines, memory_limits, report
from phopy.faces.models import user_cache_dir

PARTS = ("baseline", "cli", "groups", "vector", "memory", "http", "engines", "limits",
         "bibs")


def _ints(text):
    return tuple(int(v) for v in text.split(",") if v)


def parse_args(argv=None):
    """Options from the command line."""
    d = Options()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--photos", type=int, default=d.photos)
    p.add_argument("--attendees", type=int, default=d.attendees)
    p.add_argument("--impostors", type=int, default=d.impostors)
    p.add_argument("--seeds", type=_ints, default=d.seeds, help="e.g. 1,2,3")
    p.add_argument("--out", default=d.out, help="where generated photos go (git-ignored)")
    p.add_argument("--processes", type=int, default=d.processes, help="0 = all cores")
    p.add_argument("--size", type=_ints, default=(d.width, d.height), help="photo WxH")
    p.add_argument("--selfie-size", type=_ints, default=d.selfie_size)
    p.add_argument("--baseline-photos", type=int, default=d.baseline_photos)
    p.add_argument("--baseline-queries", type=int, default=d.baseline_queries)
    p.add_argument("--cli-known", type=int, default=d.cli_known)
    p.add_argument("--vector-sizes", type=_ints, default=d.vector_sizes)
    p.add_argument("--vector-queries", type=int, default=d.vector_queries)
    p.add_argument("--http-photos", type=int, default=d.http_photos)
    p.add_argument("--http-repeats", type=int, default=d.http_repeats)
    p.add_argument("--skip", default="", help="comma list of: " + ", ".join(PARTS))
    p.add_argument("--reuse", action="store_true",
                   help="re-score each event's cached Phopy index instead of indexing "
                        "again (its timings are those measured when it was made)")
    p.add_argument("--report-dir", default=str(REPO_ROOT / "bench"),
                   help="where RESULTS.md and results.json go")
    p.add_argument("--notes", default=str(REPO_ROOT / "bench" / "notes.md"),
                   help="hand-written analysis to put under 'What limits it'")
    p.add_argument("--report-only", action="store_true",
                   help="re-render RESULTS.md from the results.json in --report-dir")
    p.add_argument("--model-dir", default=str(user_cache_dir()),
                   help="where the engines part keeps the ONNX weights it fetches")
    args = p.parse_args(argv)
    options = Options(
        photos=args.photos, attendees=args.attendees, impostors=args.impostors,
        seeds=args.seeds, out=args.out, processes=args.processes,
        width=args.size[0], height=args.size[1], selfie_size=args.selfie_size,
        baseline_photos=args.baseline_photos, baseline_queries=args.baseline_queries,
        cli_known=args.cli_known, vector_sizes=args.vector_sizes,
        vector_queries=args.vector_queries, http_photos=args.http_photos,
        http_repeats=args.http_repeats,
        reuse=args.reuse, skip=tuple(s for s in args.skip.split(",") if s))
    return options, args


def main(argv=None):
    options, args = parse_args(argv)
    if args.report_only:
        results = json.loads((Path(args.report_dir) / "results.json").read_text())
    else:
        results = run_benchmark(options, log=lambda line: print(line, flush=True))
    notes_path = Path(args.notes)
    notes = notes_path.read_text() if notes_path.is_file() else ""
    report.write(results, args.report_dir, notes)
    print(f"wrote {Path(args.report_dir) / 'RESULTS.md'} and results.json")
    for label, figure, limit, status in report.judge(results):
        print(f"  {status:8} {label}: {figure} ({limit})")
    if args.report_only:
        if (Path(args.report_dir) / "results_engines.json").is_file():
            engines.main(["--report-only", "--report-dir", args.report_dir])
    elif "engines" not in options.skip:
        found = engines.run_engines(engines.options_from(options), Path(args.model_dir),
                                    log=lambda line: print(line, flush=True))
        engines.write(found, args.report_dir)
        print(f"wrote the engines section of {Path(args.report_dir) / 'RESULTS.md'}")
    if not args.report_only and "limits" not in options.skip:
        memory_limits.main(["--report-dir", args.report_dir])  # issue 19: own section, json
        print("wrote the bounded-memory section of "
              f"{Path(args.report_dir) / memory_limits.RESULTS.name}")
    if args.report_only:
        if (Path(args.report_dir) / "results_bibs.json").is_file():
            bibs.main(["--report-only", "--report-dir", args.report_dir])
    elif "bibs" not in options.skip:  # its own sizes (race photos), same seeds
        bibs.main(["--seeds", ",".join(str(s) for s in options.seeds), "--out", options.out,
                   "--processes", str(options.processes), "--model-dir", args.model_dir,
                   "--report-dir", args.report_dir])
    return 0


if __name__ == "__main__":
    sys.exit(main())
