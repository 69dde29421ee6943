"""A throwaway PostgreSQL and a big generated event for ``bench.cache``.

The server is started and stopped by ``scripts/test_services.sh`` (as ``./test.sh``
does) unless ``PHOPY_TEST_PG_ADMIN_URL`` names one. The event is written straight
into the tables: photos and checkpoints by ``generate_series``, faces by one COPY
per 5,000 photos of random unit vectors stored as the engines store them
(float32, little-endian, ``bytea``). A few planted people (a unit vector plus a
little noise, in photos spread over the event) give a search something to find.
"""
import io
import os
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bench.distributed import pg_database

REPO = Path(__file__).resolve().parent.parent
PEOPLE = 3             # planted people, each in PEOPLE_PHOTOS photos
PEOPLE_PHOTOS = 40
PERSON_SPREAD = 0.3    # the norm of the noise around a person's vector


@contextmanager
def postgres():
    """The admin URL of a PostgreSQL server for the run (throwaway unless given)."""
    given = os.environ.get("PHOPY_TEST_PG_ADMIN_URL")
    if given:
        yield given
        return
    script = REPO / "scripts" / "test_services.sh"
    out = subprocess.run(
        ["bash", "-c", f'. "{script}" >&2 && start_test_postgres >&2 && '
         'echo "$PHOPY_TEST_PG_ADMIN_URL" && echo "$_SERVICES_DIR" && echo "$_PG_STARTED"'],
        check=True, capture_output=True, text=True, cwd=REPO).stdout.split()
    url, folder, binaries = out[-3:]
    try:
        yield url
    finally:
        subprocess.run(["bash", "-c", f'. "{script}" && _SERVICES_DIR="{folder}" '
                        f'_PG_STARTED="{binaries}" stop_test_services'], cwd=REPO, check=False)


def fresh_database(admin_url, name):
    """A new database holding Phopy's schema; its URL."""
    import psycopg2
    url = pg_database(admin_url, name)
    raw = psycopg2.connect(url)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute((REPO / "schema_postgresql.sql").read_text())
    raw.close()
    return url


def drop_database(admin_url, name):
    import psycopg2
    raw = psycopg2.connect(admin_url)
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    raw.close()


def unit_rows(rng, count, size):
    rows = rng.normal(size=(count, size)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def generate_event(url, photos, per_photo, size, engine_key, seed=1):
    """Write an event of ``photos`` × ``per_photo`` faces; return (event id, people), the
    people being {person vector: [photo ids]} as (vector, photo ids) pairs."""
    import psycopg2
    rng = np.random.default_rng(seed)
    raw = psycopg2.connect(url)
    raw.autocommit = True
    cur = raw.cursor()
    cur.execute("INSERT INTO photographers (email, created_at) VALUES ('bench@cache.test', "
                "'2026-01-01T00:00:00Z') RETURNING id")
    owner = cur.fetchone()[0]
    event_id = str(uuid.uuid4())
    cur.execute("INSERT INTO events (id, code, owner_id, name, created_at) VALUES "
                "(%s, 'CACHE1', %s, 'A 50,000-photo event', '2026-01-01T00:00:00Z')",
                (event_id, owner))
    cur.execute("INSERT INTO photos (event_id, filename, content_hash, storage_key, size_bytes, "
                "width, height, created_at) SELECT %s, 'p' || g || '.jpg', md5(g::text), "
                "'originals/' || g, 1000, 4000, 3000, '2026-01-01T00:00:00Z' "
                "FROM generate_series(1, %s) g", (event_id, photos))
    cur.execute("INSERT INTO photo_checkpoints (photo_id, event_id, status, faces_count, "
                "processed_at) SELECT id, event_id, 'indexed', %s, '2026-01-01T00:00:00Z' "
                "FROM photos WHERE event_id = %s", (per_photo, event_id))
    cur.execute("SELECT id FROM photos WHERE event_id = %s ORDER BY id", (event_id,))
    photo_ids = np.array([row[0] for row in cur.fetchall()], dtype=np.int64)
    people = [(vector, rng.choice(photos, size=PEOPLE_PHOTOS, replace=False))
              for vector in unit_rows(rng, PEOPLE, size)]
    planted = {}  # photo row -> person vector (the photo's first face)
    for vector, rows in people:
        for row in rows:
            planted[int(row)] = vector
    step = 5000
    for start in range(0, photos, step):
        chunk = photo_ids[start:start + step]
        encodings = unit_rows(rng, len(chunk) * per_photo, size)
        for offset in range(len(chunk)):
            vector = planted.get(start + offset)
            if vector is not None:
                noisy = vector + rng.normal(size=size) * PERSON_SPREAD / np.sqrt(size)
                encodings[offset * per_photo] = noisy / np.linalg.norm(noisy)
        text = io.StringIO()
        for photo_id, encoding in zip(np.repeat(chunk, per_photo).tolist(),
                                      encodings.astype("<f4")):
            text.write(f"{photo_id}\t{event_id}\t1\t2\t3\t4\t\\\\x{encoding.tobytes().hex()}"
                       f"\t{engine_key[0]}\t{engine_key[1]}\n")
        text.seek(0)
        cur.copy_expert("COPY faces (photo_id, event_id, box_top, box_right, box_bottom, "
                        "box_left, encoding, engine, model_version) FROM STDIN", text)
    cur.execute("UPDATE events SET faces_version = 1 WHERE id = %s", (event_id,))
    cur.execute("VACUUM ANALYZE")
    raw.close()
    return event_id, [(vector, photo_ids[rows]) for vector, rows in people]
