"""End-to-end search through the running app's HTTP API.

Sets up a throwaway data folder with the app's own CLI (init-db, a
photographer, an event, import-folder --wait), serves the app with gunicorn,
then times ``POST /api/events/<id>/search`` with 1 and 3 phone-size selfies.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.dataset import REPO_ROOT
from bench.latency import percentiles

BIN = Path(sys.executable).parent


def _env(data_dir):
    return dict(os.environ, PHOPY_DATA_DIR=str(data_dir), SECRET_KEY="bench-secret",
                FLASK_APP="app")


def _flask(data_dir, *args):
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=REPO_ROOT,
                          env=_env(data_dir), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _last_json(text):
    """The last JSON object printed (CLI commands may log lines before it)."""
    start = text.find("{")
    while start != -1:
        try:
            return json.loads(text[start:])
        except ValueError:
            start = text.find("{", start + 1)
    raise ValueError(f"no JSON in output: {text[-500:]}")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post_selfies(url, paths, timeout=30):
    boundary = uuid.uuid4().hex
    body = bytearray()
    for path in paths:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"selfies\"; "
                 f"filename=\"{Path(path).name}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
        body += Path(path).read_bytes() + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=bytes(body), method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def bench_http_search(photo_dir, queries, repeats=10, workers=1):
    """Time searches through the API; ``queries`` is a list of selfie-path lists.

    Returns p50/p95 for 1 and 3 selfies plus the import summary.
    """
    with tempfile.TemporaryDirectory(prefix="phopy-bench-") as data_dir:
        _flask(data_dir, "init-db")
        _flask(data_dir, "create-photographer", "bench@example.com", "--password", "bench-pass-1")
        event = _last_json(_flask(data_dir, "create-event", "--owner", "bench@example.com",
                                  "Benchmark event"))
        start = time.perf_counter()
        summary = _last_json(_flask(data_dir, "import-folder", str(event["id"]),
                                    str(photo_dir), "--wait"))
        import_s = time.perf_counter() - start
        port = _free_port()
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--timeout", "120", "app:create_app()"],
            cwd=REPO_ROOT, env=_env(data_dir), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        try:
            _wait_for(port, server)
            url = f"http://127.0.0.1:{port}/api/events/{event['id']}/search"
            out = {"import_summary": summary, "import_seconds": import_s}
            for count in (1, 3):
                usable = [q[:count] for q in queries if len(q) >= count]
                _post_selfies(url, usable[0])  # warm-up: loads the model and index
                seconds, found = [], []
                for i in range(repeats):
                    paths = usable[i % len(usable)]
                    t0 = time.perf_counter()
                    reply = _post_selfies(url, paths)
                    seconds.append(time.perf_counter() - t0)
                    found.append(len(reply.get("photos", [])))
                out[f"selfies_{count}"] = dict(percentiles(seconds),
                                               mean_photos_returned=sum(found) / len(found))
            return out
        finally:
            server.send_signal(signal.SIGINT)  # gunicorn: quick shutdown
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for(port, server, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited: " + server.stderr.read().decode()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")
