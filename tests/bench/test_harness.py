"""A tiny benchmark run, so the harness keeps working (the full run is a command)."""
import json

import pytest

from bench import report
from bench.generate import EventSpec, plan_event
from bench.dataset import load_asian_names, load_lfw_people
from bench.run import Options, run_benchmark



@pytest.fixture(scope="module")
def tiny_results(faces_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    options = Options(photos=3, attendees=2, impostors=1, seeds=(1,), out=str(out),
                      width=1200, height=900, selfie_size=(600, 800), processes=1,
                      baseline_photos=1, baseline_queries=1, cli_known=1,
                      vector_sizes=(100, 1000), vector_queries=3,
                      tolerances=(0.4, 0.5), variants=((400, 0),), skip=("http", "groups"))
    lines = []
    results = run_benchmark(options, log=lines.append)
    return results, lines, out


def test_plan_is_deterministic_and_consistent(faces_dir):
    people = load_lfw_people(faces_dir)
    spec = EventSpec(seed=4, photos=6, attendees=3, impostors=2, width=1200, height=900)
    first, second = plan_event(people, spec), plan_event(people, spec)
    assert first == second
    for attendee in first["attendees"]:
        assert attendee["photos"], "every attendee is in at least one photo"
        sources = {f["source"] for p in first["photos"] for f in p["faces"]
                   if f["person"] == attendee["person"]}
        assert not sources & set(attendee["selfie_sources"]), "selfies are held out"
    impostors = {i["person"] for i in first["impostors"]}
    for photo in first["photos"]:
        names = [f["person"] for f in photo["faces"]]
        assert len(names) == len(set(names)), "one person at most once per photo"
        assert not impostors & set(names)
        assert 1 <= len(names) <= spec.max_people


def test_asian_people_take_part_as_attendees_and_impostors(faces_dir):
    people = load_lfw_people(faces_dir)
    asian = load_asian_names(faces_dir)
    assert len(asian) == 48 and asian <= set(people) | asian
    spec = EventSpec(seed=5, photos=20, attendees=20, impostors=10, width=1200, height=900)
    plan = plan_event(people, spec, asian)
    assert set(plan["asian"]) == asian & set(people)
    attendees = {a["person"] for a in plan["attendees"]}
    impostors = {i["person"] for i in plan["impostors"]}
    assert len(attendees & asian) == 5 and len(impostors & asian) == 3  # 25% and 30%
    assert len(attendees) == 20 and len(impostors) == 10
    assert plan_event(people, spec, asian) == plan
    # without the list the event is drawn from everyone alike, and scores no group
    assert plan_event(people, spec)["asian"] == []


def test_tiny_run_reports_every_part(tiny_results, tmp_path):
    results, lines, out = tiny_results
    assert "cpu_model" in results["machine"] and lines[0].startswith("machine:")
    event = results["events"][0]
    assert event["photos"] == 3 and event["detection"]["true_faces"] > 0
    for n in (1, 3):
        assert 0 <= event[f"selfies_{n}"]["micro_recall"] <= 1
    assert results["baseline"]["speedup_photos_per_s"] > 0
    assert results["cli"]["photos"] == 1
    assert [row["faces"] for row in results["vector_search"]] == [100, 1000]
    assert results["memory"]["search_cache"]["index_nbytes_per_100k"] > 0
    report.write(results, tmp_path)
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## Targets" in text and "the baseline per photo" in text
    assert json.loads((tmp_path / "results.json").read_text())["events"][0]["seed"] == 1
    assert not list(out.glob("**/*.png")), "photos are JPEG"
