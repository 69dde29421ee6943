"""The import graph keeps its shape: no cycles, lower layers never import higher ones,
channels stay apart, and starting work imports little.

Imports inside functions count: a lazy import is still a dependency.
"""
import json
import subprocess
import sys

import pytest

from tests.architecture.imports import ROOT, cycles, edges, modules

# Lowest first. A module may import modules of its own layer or below.
LAYERS = (
    ("base", ("phopy.faces", "phopy.data", "phopy.storage", "phopy.errors", "phopy.config",
              "phopy.envfile", "phopy.logging_setup", "phopy.metrics")),
    ("jobs", ("phopy.jobs",)),
    ("sources", ("phopy.sources",)),
    ("services", ("phopy.services",)),
    ("web kit", ("phopy.extensions", "phopy.web.auth", "phopy.web.errors", "phopy.web.headers",
                 "phopy.web.i18n", "phopy.web.security", "phopy.web.redirects",
                 "phopy.web.results", "phopy.web.owner", "phopy.web.uploads",
                 "phopy.web.apiauth", "phopy.web.stored", "phopy.web.paywall")),
    ("channels and blueprints", ("phopy.line", "phopy.google", "phopy.sales", "phopy.bibs", "phopy.web")),
    # The factory, entry points, and the jobs layer's own Flask/Celery wiring.
    ("factory", ("phopy", "phopy.cli", "phopy.wsgi", "phopy.gunicorn_conf", "phopy.startup_banner",
                 "phopy.backup", "phopy.jobs.setup", "phopy.jobs.checks",
                 "phopy.jobs.celery_app", "phopy.jobs.worker")),
)
# Packages that never import each other (nor do the web's blueprints import them).
INDEPENDENT = ("phopy.line", "phopy.google", "phopy.sales", "phopy.bibs", "phopy.web")
# Known exceptions: (importer, imported) pairs allowed across the rules above.
ALLOWED = set()


def layer_of(module):
    """(index, name) of the layer a module belongs to: its longest matching prefix."""
    best = None
    for i, (name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[2]:
                    best = (i, name, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[:2]


def _package(module):
    for prefix in INDEPENDENT:
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return None


@pytest.fixture(scope="module")
def graph():
    return edges()


def test_no_import_cycles_counting_imports_inside_functions(graph):
    assert cycles(graph) == []


def test_every_module_is_in_a_layer():
    for module in modules():
        layer_of(module)


def test_no_lower_layer_imports_a_higher_one(graph):
    wrong = []
    for importer, imported in sorted((a, b) for a, bs in graph.items() for b in bs):
        (low, low_name), (high, high_name) = layer_of(importer), layer_of(imported)
        if high > low and (importer, imported) not in ALLOWED:
            wrong.append(f"{importer} ({low_name}) imports {imported} ({high_name})")
    assert wrong == []


def test_channels_and_blueprints_stay_apart(graph):
    wrong = []
    for importer, imported in sorted((a, b) for a, bs in graph.items() for b in bs):
        if layer_of(importer)[1] != "channels and blueprints":
            continue
        a, b = _package(importer), _package(imported)
        if a and b and a != b and layer_of(imported)[1] == "channels and blueprints" \
                and (importer, imported) not in ALLOWED:
            wrong.append(f"{importer} imports {imported}")
    assert wrong == []


def test_the_layer_check_fails_on_a_cycle_and_on_an_upward_import(tmp_path):
    """The checks above can fail: a made-up tree with both faults is caught."""
    (tmp_path / "phopy" / "jobs").mkdir(parents=True)
    (tmp_path / "phopy" / "services").mkdir()
    (tmp_path / "phopy" / "__init__.py").write_text("")
    (tmp_path / "phopy" / "jobs" / "__init__.py").write_text("")
    (tmp_path / "phopy" / "services" / "__init__.py").write_text("")
    (tmp_path / "phopy" / "jobs" / "queue.py").write_text(
        "def f():\n    from phopy.services import indexing\n")
    (tmp_path / "phopy" / "services" / "indexing.py").write_text(
        "from phopy.jobs.queue import f\n")
    graph = edges(tmp_path)
    assert cycles(graph) == [["phopy.jobs.queue", "phopy.services.indexing"]]
    assert layer_of("phopy.jobs.queue") < layer_of("phopy.services.indexing")


def test_the_line_and_google_code_lives_in_its_package():
    """Nothing outside phopy/line and phopy/google names their services."""
    found = subprocess.run(
        ["grep", "-rnE", r"services\.line_|services\.drive|services\.google_accounts|"
         r"sources\.(line|drive)\b", "phopy", "--include=*.py"],
        cwd=ROOT, capture_output=True, text=True).stdout
    assert found == ""


def test_enqueue_imports_about_ten_phopy_modules(tmp_path):
    """A bare ``enqueue`` pulls in the queue, its registry and the data layer it
    writes to, and no Flask, no channel, no service."""
    code = f"""
import json, sys
from phopy.data.connection import Database
from phopy.jobs.queue import enqueue
from phopy.jobs.registry import job

job("demo")(lambda ctx: None)
database = Database("sqlite:///{tmp_path / 'db.sqlite'}")
conn = database.connect()
conn.executescript(open("{ROOT / 'schema.sql'}").read())
task = enqueue(conn, "demo", {{"n": 1}})
print(json.dumps({{"task": task["kind"],
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] == "phopy"),
                  "flask": "flask" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["task"] == "demo"
    assert not result["flask"]
    names = result["modules"]
    assert len(names) <= 12, names
    assert not [n for n in names if n.startswith(("phopy.services", "phopy.line",
                                                  "phopy.google", "phopy.web"))]
