import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from phopy.errors import EngineUnavailable, StorageUnavailable
from phopy.faces import EngineSettings, FacePool
from phopy.faces.pool import analyze_source
from phopy.storage import FileStorage

PHOTOS = ["group_photos/dlib_2008_001009.jpg", "group_photos/fr_kit_with_rose.jpg",
          "group_photos/dlib_2008_002506.jpg", "no_faces/dlib_dog.jpg"]


@pytest.fixture(scope="module")
def items(faces_dir, tmp_path_factory):
    corrupt = tmp_path_factory.mktemp("pool") / "corrupt.jpg"
    data = (faces_dir / PHOTOS[0]).read_bytes()
    corrupt.write_bytes(data[: len(data) // 3])
    sources = [faces_dir / name for name in PHOTOS]
    sources[1] = sources[1].read_bytes()  # bytes travel to the workers as well
    return [(f"photo-{n}", source) for n, source in enumerate(sources)] + [("corrupt", corrupt)]


def same_faces(a, b):
    assert (a.width, a.height) == (b.width, b.height)
    assert [face.box for face in a.faces] == [face.box for face in b.faces]
    for x, y in zip(a.faces, b.faces):
        assert np.allclose(x.encoding, y.encoding, atol=1e-5)


def test_two_processes_match_the_engine_and_survive_a_corrupt_photo(engine, items):
    with FacePool(engine.settings, processes=2, max_in_flight=3) as pool:
        results = {key: (analysis, error) for key, analysis, error in pool.analyze(items)}
    assert set(results) == {key for key, _ in items}
    analysis, error = results.pop("corrupt")
    assert analysis is None and error in ("The image is damaged or truncated.",
                                          "The file could not be read as an image.")
    for key, source in items[:-1]:
        analysis, error = results[key]
        assert error is None
        same_faces(analysis, engine.analyze_photo(source))
    assert results["photo-3"][0].faces == []


def test_one_process_runs_in_process(items):
    with FacePool(EngineSettings(), processes=1) as pool:
        results = list(pool.analyze(items[3:]))
        assert pool._executor is None
    assert [(key, error is None) for key, _, error in results] == [
        ("photo-3", True), ("corrupt", False)]


def test_a_crashing_worker_fails_only_its_own_photo():
    items = [(n, b"crash" if n == 3 else str(n).encode()) for n in range(8)]
    with FacePool(EngineSettings(), processes=2, max_in_flight=4,
                  task=_task("crash_on_marker")) as pool:
        results = {key: (value, error) for key, value, error in pool.analyze(items)}
    assert results.pop(3) == (None, "analysis failed: the worker process crashed")
    assert results == {n: (str(n), None) for n in range(8) if n != 3}


def test_workers_exit_when_the_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys\n"
        "from phopy.faces import EngineSettings, FacePool\n"
        "from tests.faces.pool_tasks import report_pid_or_sleep\n"
        "if __name__ == '__main__':\n"
        "    pool = FacePool(EngineSettings(), processes=2, task=report_pid_or_sleep)\n"
        "    for key, pid, error in pool.analyze([(1, b'pid'), (2, b'sleep')]):\n"
        "        print(pid, flush=True)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=root, env={**os.environ, "PYTHONPATH": root})
    try:
        worker = int(parent.stdout.readline())
        assert _alive(worker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)


def test_analyze_source_reports_instead_of_raising(engine, tmp_path):
    # People read these on the dashboard: no paths or Python internals in them.
    assert analyze_source(engine, b"") == (None, "The file is empty.")
    _, error = analyze_source(engine, b"\x89PNG\r\n\x1a\n" + b"junk" * 10)
    assert "0x" not in error and "BytesIO" not in error and "PIL" not in error


def test_a_missing_file_is_the_machines_fault_not_the_photos(engine, tmp_path):
    with pytest.raises(StorageUnavailable, match="missing on this machine"):
        analyze_source(engine, tmp_path / "missing.jpg")


def test_workers_read_stored_keys_themselves(engine, faces_dir, tmp_path):
    storage = FileStorage(tmp_path / "data")
    keys = []
    for n, name in enumerate(PHOTOS[:2]):
        keys.append(storage.save(f"originals/ev/{n}.jpg", (faces_dir / name).read_bytes()))
    with FacePool(engine.settings, processes=2) as pool:
        results = {key: (analysis, error) for key, analysis, error in
                   pool.analyze(((key, key) for key in keys), storage=storage)}
        assert set(results) == set(keys)
        for key, name in zip(keys, PHOTOS):
            analysis, error = results[key]
            assert error is None
            same_faces(analysis, engine.analyze_photo(faces_dir / name))
        # a key that is not stored: the error crosses the process boundary whole
        with pytest.raises(StorageUnavailable) as raised:
            list(pool.analyze([("gone", "originals/ev/gone.jpg")], storage=storage))
    assert raised.value.details == {"key": "originals/ev/gone.jpg"}
    assert raised.value.message.startswith(
        f"The photo originals/ev/gone.jpg is not in storage (folder {storage.root}): "
        "every machine must share the same storage (STORAGE_BACKEND=s3")


@pytest.mark.parametrize("processes", [1, 2])
def test_an_engine_without_its_model_files_raises_naming_the_file(processes, tmp_path,
                                                                   faces_dir):
    settings = EngineSettings(engine="mobilefacenet", detector="yunet",
                              model_dir=str(tmp_path))
    photo = (faces_dir / PHOTOS[0]).read_bytes()
    with FacePool(settings, processes=processes) as pool:
        with pytest.raises(EngineUnavailable) as raised:
            list(pool.analyze([("p", photo)]))
    assert "face_detection_yunet_2023mar.onnx is missing from " + str(tmp_path) in \
        raised.value.message
    assert "python -m phopy.faces.models --all" in raised.value.message


def _task(name):
    from tests.faces import pool_tasks
    return getattr(pool_tasks, name)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed worker whose parent is gone is reaped by init; a zombie counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
