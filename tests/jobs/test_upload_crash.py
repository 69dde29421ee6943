"""kill -9 in the middle of a big upload (issue 12, #7): what was saved gets indexed,
and stored files no photo points at are cleaned up when the server starts again."""
import io
import os
import threading
import time

import pytest
import requests
from PIL import Image

from phopy.data import get_database
from tests.conftest import PASSWORD, make_event, make_photographer
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


def variants(path, count):
    """``count`` different JPEGs of one real photo (each its own content hash)."""
    base = Image.open(path).convert("RGB")
    base = base.resize((base.width * 3 // 2, base.height * 3 // 2))
    out = []
    for i in range(count):
        img = base.copy()
        img.putpixel((i, 0), (i % 256, 0, 0))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append((f"crowd-{i:03d}.jpg", buf.getvalue()))
    return out


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def test_kill_9_mid_upload_then_restart_indexes_saved_photos_and_cleans_orphans(
        tmp_path, faces_dir):
    srv = LiveServer(tmp_path, JOB_RUNNER="none").start()
    app = srv.app()
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Cut short")
    conn = get_database(app).connect()
    files = variants(faces_dir / "face_recognition_examples" / "obama.jpg", 150)
    session = requests.Session()
    assert srv.login(session, owner["email"], PASSWORD).status_code == 302

    def upload():
        try:
            srv.upload(session, event["id"], files)
        except requests.RequestException:
            pass  # the server dies under it
    sender = threading.Thread(target=upload)
    sender.start()
    try:
        wait_for(lambda: conn.scalar("SELECT COUNT(*) FROM photos") >= 2, 120,
                 "the first photos of the upload to be saved")
    finally:
        srv.kill9()
    sender.join(30)
    saved = conn.scalar("SELECT COUNT(*) FROM photos")
    assert 2 <= saved < len(files), "the upload finished before the kill; send more photos"
    assert conn.scalar("SELECT COUNT(*) FROM tasks") == 0

    # A file saved just before the kill, whose row was never written, and a
    # half-written temp file: old enough to be past the grace period.
    folder = srv.data_dir / "originals" / event["id"]
    orphan, partial = folder / ("0" * 64 + ".jpg"), folder / ".tmp-abc123"
    orphan.write_bytes(files[-1][1])
    partial.write_bytes(b"\xff\xd8\xff")
    past = time.time() - 3600
    for path in (orphan, partial):
        os.utime(path, (past, past))
    kept = {p.name for p in folder.iterdir()} - {orphan.name, partial.name}

    srv.extra_env.update(JOB_RUNNER="thread", INDEX_WORKERS="1")
    srv.start()
    try:
        wait_for(lambda: conn.scalar("SELECT COUNT(*) FROM tasks WHERE status = 'completed'")
                 == 1 and conn.scalar("SELECT COUNT(*) FROM photo_checkpoints") == saved,
                 300, "the saved photos to be indexed")
    finally:
        srv.stop()
    statuses = conn.all("SELECT status, error FROM photo_checkpoints")
    assert conn.scalar("SELECT COUNT(*) FROM faces") >= saved, statuses
    assert not orphan.exists() and not partial.exists()
    assert {p.name for p in folder.iterdir()} == kept  # every recorded photo kept its file
    conn.close()
