"""A big photo upload is spooled to disk as it arrives, not held in the worker's memory
(issue 19 #7: a 290 MB REST upload grew the worker by ~600 MB), on a real gunicorn."""
import os
import threading

import psutil
import requests

from tests.conftest import make_event, make_photographer
from tests.live_server import LiveServer
from tests.web.api_helpers import bearer, make_key

MB = 2 ** 20


def multipart_file(path, files, file_mb, boundary="phopy-test-boundary"):
    """A multipart body of ``files`` random (not image) files, written to ``path``."""
    with path.open("wb") as fh:
        for n in range(files):
            fh.write(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                     f'filename="f{n:02d}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode())
            fh.write(os.urandom(file_mb * MB))
            fh.write(b"\r\n")
        fh.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}"


def test_a_big_rest_upload_is_not_held_in_memory(tmp_path):
    srv = LiveServer(tmp_path).start()
    try:
        app = srv.app()
        owner = make_photographer(app)
        event = make_event(app, owner["id"], "Upload day")
        headers = bearer(make_key(app, owner["id"])[1])
        body = tmp_path / "body.bin"
        headers["Content-Type"] = multipart_file(body, 12, 9)  # 108 MB, every file refused
        worker = psutil.Process(srv.worker_pid())
        before = worker.memory_info().rss
        peak, stop = [before], threading.Event()

        def sample():
            while not stop.wait(0.02):
                peak.append(worker.memory_info().rss)
        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with body.open("rb") as fh:
                answer = requests.post(f"{srv.url}/api/events/{event['id']}/photos",
                                       data=fh, headers=headers, timeout=300)
        finally:
            stop.set()
            sampler.join()
        assert answer.status_code == 415, answer.text
        assert len(answer.json()["rejected"]) == 12
        grown = max(peak) - before
        # One file (9 MB) is read at a time; the 108 MB body never is.
        assert grown < 40 * MB, f"grew {grown / MB:.0f} MB"
    finally:
        srv.stop()
