"""A tiny run of the engines part of ``python -m bench`` (the full run is a command)."""
import json

import pytest

from bench.__main__ import main as bench_main
from bench.engines import CONFIGS, END, START
from phopy.faces.settings import PROFILES
from tests.conftest import model_dir

TINY = ["--photos", "3", "--attendees", "4", "--impostors", "4", "--seeds", "2",
        "--size", "1200,900", "--selfie-size", "600,800", "--processes", "1",
        "--baseline-photos", "1", "--baseline-queries", "1", "--cli-known", "1",
        "--vector-sizes", "100", "--vector-queries", "2",
        "--skip", "baseline,cli,groups,vector,memory,http,limits,bibs"]


@pytest.fixture(scope="module")
def engines_run(faces_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_engines")
    report = out / "report"
    report.mkdir()
    assert bench_main(TINY + ["--out", str(out / "events"), "--report-dir", str(report),
                              "--model-dir", model_dir()]) == 0
    return out, report


def test_every_engine_is_measured_on_the_same_events(engines_run):
    out, report = engines_run
    results = json.loads((report / "results_engines.json").read_text())
    assert [label for label, _ in CONFIGS] == list(results["configs"])
    truth = json.loads((out / "events" / "engines_seed2" / "ground_truth.json").read_text())
    assert truth["spec"]["selfie_size"] == [600, 800], "the engines part uses bench's sizes"
    for label, config in results["configs"].items():
        (event,) = config["events"]
        assert event["photos"] == 3
        detection = event["detection"]
        assert detection["true_faces"] == sum(len(p["faces"]) for p in truth["photos"])
        assert detection["true_faces_found"] >= detection["true_faces"] - 1, label
        recalls = [row["micro_recall"] for row in event["sweep_1"]]
        assert recalls == sorted(recalls), f"{label}: a wider tolerance never finds fewer"
    mfn = results["configs"]["mobilefacenet"]["events"][0]
    assert mfn["tolerance"] == 0.555 and mfn["selfies_1"]["micro_recall"] > 0.5
    sface = results["configs"]["sface"]["events"][0]
    assert sface["tolerance"] == PROFILES["sface"].tolerance
    # the Asian people of the event take part as attendees and impostors, scored apart
    asian = set(truth["asian"])
    assert asian & {p["person"] for p in truth["attendees"]}
    assert asian & {p["person"] for p in truth["impostors"]}
    assert results["people"] == [{"seed": 2, "asian_attendees": 1, "attendees": 4,
                                  "asian_impostors": 1, "impostors": 4}]
    for label, config in results["configs"].items():
        (event,) = config["events"]
        groups = event["groups_1"]
        assert groups["asian"]["queries"] == 1 and groups["rest"]["queries"] == 3
        assert (groups["asian"]["impostor_queries"], groups["rest"]["impostor_queries"]) == (1, 3)
        total = event["selfies_1"]
        assert (groups["asian"]["true_positives"] + groups["rest"]["true_positives"]
                == total["true_positives"]), label
        assert (groups["asian"]["false_positives"] + groups["rest"]["false_positives"]
                == total["false_positives"]), label
        row = event["sweep_1"][0]
        assert set(row["asian"]) >= {"micro_precision", "micro_recall",
                                     "impostor_false_match_rate"}
    for label, same in results["same_photos"].items():
        assert same["speedup"] > 0 and same["selfie_cpu_s"] > 0, label


def test_results_md_gets_the_section_and_report_only_renders_it_again(engines_run):
    _, report = engines_run
    text = (report / "RESULTS.md").read_text()
    section = text[text.index(START):text.index(END)]
    for label, _ in CONFIGS:
        assert f"| {label} |" in section
    assert "Issue 21's targets" in section and "**Reduced sizes**" in section
    assert f"| sface | {PROFILES['sface'].tolerance} | Asian |" in section
    assert "1 attendees and 1 impostors" in section
    (report / "RESULTS.md").write_text(text.replace(section, START + "\nstale\n"))
    assert bench_main(["--report-only", "--report-dir", str(report)]) == 0
    again = (report / "RESULTS.md").read_text()
    assert again[again.index(START):again.index(END)] == section
