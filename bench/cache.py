"""The search cache at a 50,000-photo event on PostgreSQL: ``python -m bench.cache``.

A throwaway PostgreSQL (``bench.cache_data``) holds one event of 50,000 photos ×
5 faces, once with dlib's 128-value encodings and once with MobileFaceNet's 512.
Measured with Phopy's own code, each against the code it replaced in the same run:

- cold load: a new ``SearchCache``'s first look-up (version, binary COPY loader split
  over two connections in one snapshot, index, other engines' count) vs the same with
  one COPY and vs the rows loader it replaced (``load_event_encodings`` tuples joined
  into a matrix), alternated, median of ``--repeats``;
- a new photo: one photo's 5 faces stored with ``record_scan``, then the look-up
  that brings them in (the faces since the last id written into the index's spare
  rows) vs the same read appended by copying every array (the old ``extended``),
  and vs a full reload;
- a selfie search's database time: ``search_event`` on a warm cache, every
  statement's time summed by a timing wrapper on the connection's cursors, vs
  the same plus the ``checkpoint_summary`` every search ran before;
- "is this you?" (``two_tiers``): its time at 250,000 faces against the searches
  it ran before one query at a time, and the share of finding the matched faces'
  rows (``np.isin`` before, bisection now);
- memory per event: the index's buffers (spare rows included) vs the arrays alone,
  and the process's resident memory after a load.

Writes ``bench/results_cache.json`` and the "Search cache" section of
``bench/RESULTS.md`` (between its markers; ``bench.report`` keeps it).
"""
import argparse
import gc
import io
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

from bench.cache_data import drop_database, fresh_database, generate_event, postgres
from bench.cache_report import write
from phopy.data import Database
from phopy.data import events as events_db
from phopy.data import faces as faces_db
from phopy.data import photos as photos_db
from phopy.faces import EngineSettings, FaceIndex
from phopy.faces.engine import engine_key
from phopy.faces.search import PREFILTER_SLACK, two_tiers
from phopy.services.search import SearchCache, search_event

ENGINES = ("dlib", "mobilefacenet")


class _Clock:
    """Seconds spent in the database (statements and fetches) since the last reset."""

    def __init__(self):
        self.seconds, self.statements = 0.0, 0

    def timed(self, function):
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.statements += function.__name__ in ("execute", "executemany",
                                                         "copy_expert")
        return call


class _TimedCursor:
    def __init__(self, cursor, clock):
        self._cursor, self._clock = cursor, clock

    def __getattr__(self, name):
        value = getattr(self._cursor, name)
        if name in ("execute", "executemany", "fetchone", "fetchall", "copy_expert"):
            return self._clock.timed(value)
        return value


class _TimedRaw:
    """A psycopg2 connection whose cursors count their time on a clock."""

    def __init__(self, raw, clock):
        self._raw, self._clock = raw, clock

    def cursor(self, *args, **kwargs):
        return _TimedCursor(self._raw.cursor(*args, **kwargs), self._clock)

    def __getattr__(self, name):
        return getattr(self._raw, name)


class _GivenFaces:
    """Stands for the selfie analyzer: the bench times the database, not the engine."""

    def __init__(self, settings, encoding):
        self.settings, self._encoding = settings, encoding

    def analyze_selfie(self, data):
        return [type("Face", (), {"encoding": self._encoding})()]


def old_load(conn, event_id, settings):
    """The loader before: rows as tuples, the blobs joined into one matrix."""
    key = engine_key(settings)
    face_ids, photo_ids, blobs = faces_db.load_event_encodings(conn, event_id, *key)
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, settings.profile.size)
    index = FaceIndex(np.asarray(face_ids, dtype=np.int64),
                      np.asarray(photo_ids, dtype=np.int64), matrix, engine=settings.profile)
    faces_db.count_other_engines(conn, event_id, *key)
    return index


def one_copy_load(conn, event_id, settings):
    """Today's loader with the read in one piece (one COPY, one server process)."""
    key = engine_key(settings)
    face_ids, photo_ids, matrix = faces_db.event_matrix(conn, event_id, *key,
                                                        settings.profile.size,
                                                        split_from=2 ** 62)
    index = FaceIndex(face_ids, photo_ids, matrix, engine=settings.profile,
                      spare=max(64, len(face_ids) // 8))
    faces_db.count_other_engines(conn, event_id, *key)
    return index


def old_extended(index, face_ids, photo_ids, encodings):
    """The old ``FaceIndex.extended``: every array copied with the new rows appended."""
    more = FaceIndex(face_ids, photo_ids, encodings, engine=index.profile)
    arrays = [np.concatenate([index.face_ids, more.face_ids]),
              np.concatenate([index.photo_ids, more.photo_ids]),
              np.concatenate([index.encodings, more.encodings]),
              np.concatenate([index.sq_norms, more.sq_norms])]
    if index._prefilter is not None:
        mean, basis, projected, projected_sq = index._prefilter
        added = np.ascontiguousarray((more.encodings - mean) @ basis)
        arrays += [np.concatenate([projected, added]),
                   np.concatenate([projected_sq, np.einsum("ij,ij->i", added, added)])]
    return arrays


def _seconds(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def add_photo(conn, event_id, settings, rng, per_photo):
    """A new photo with ``per_photo`` faces, stored as indexing stores them."""
    photo_id = photos_db.insert(conn, {
        "event_id": event_id, "filename": "new.jpg", "content_hash": os.urandom(16).hex(),
        "storage_key": "originals/new", "size_bytes": 1000})
    rows = rng.normal(size=(per_photo, settings.profile.size)).astype("<f4")
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    assert photos_db.record_scan(conn, photos_db.get(conn, photo_id), None, "indexed",
                                 [((1, 2, 3, 4), row.tobytes()) for row in rows],
                                 engine_key=engine_key(settings))


def measure_engine(url, name, args):
    settings = EngineSettings(engine=name)
    size = settings.profile.size
    started = time.perf_counter()
    event_id, people = generate_event(url, args.photos, args.faces_per_photo, size,
                                      engine_key(settings))
    result = {"engine": name, "size": size, "generate_s": time.perf_counter() - started}
    database = Database(url, pool_max=4)
    conn = database.connect()
    process = psutil.Process()
    try:
        old_s, new_s, one_s, rss = [], [], [], []
        for _ in range(args.repeats):  # alternated, so all see the same server state
            seconds, index = _seconds(lambda: old_load(conn, event_id, settings))
            old_s.append(seconds)
            del index
            gc.collect()
            seconds, index = _seconds(lambda: one_copy_load(conn, event_id, settings))
            one_s.append(seconds)
            del index
            gc.collect()
            before = process.memory_info().rss
            cache = SearchCache()
            seconds, index = _seconds(lambda: cache.get_index(conn, event_id, settings))
            new_s.append(seconds)
            rss.append(process.memory_info().rss - before)
            del index, cache
            gc.collect()
        faces = args.photos * args.faces_per_photo
        result["cold_load"] = {"faces": faces, "old_s": statistics.median(old_s),
                               "new_s": statistics.median(new_s), "old_runs": old_s,
                               "new_runs": new_s, "one_copy_s": statistics.median(one_s),
                               "one_copy_runs": one_s}
        result["cold_load"]["speedup"] = result["cold_load"]["old_s"] / result["cold_load"][
            "new_s"]

        cache = SearchCache()
        index = cache.get_index(conn, event_id, settings)
        assert len(index) == faces, (len(index), faces)
        index.within(people[0][0], settings.tolerance)  # builds the prefilter, as searches do
        arrays = sum(a.nbytes for a in (index.face_ids, index.photo_ids, index.encodings,
                                        index.sq_norms, *(index._prefilter or ())[2:]))
        result["memory"] = {"index_mb": index.nbytes / 2**20, "arrays_mb": arrays / 2**20,
                            "rss_growth_mb": statistics.median(rss) / 2**20}

        rng = np.random.default_rng(5)
        refresh_ms, old_ms = [], []
        for _ in range(args.refreshes):
            before = cache.loads["full"]
            last = max(int(cache.get_index(conn, event_id, settings).face_ids[-1]), 0)
            add_photo(conn, event_id, settings, rng, args.faces_per_photo)
            seconds, grown = _seconds(lambda: cache.get_index(conn, event_id, settings))
            assert cache.loads["full"] == before and len(grown) > len(index)
            refresh_ms.append(seconds * 1000)
            seconds, _ = _seconds(lambda: (old_extended(index, *faces_db.event_matrix(
                conn, event_id, *engine_key(settings), size, after_id=last)),
                faces_db.count_other_engines(conn, event_id, *engine_key(settings),
                                             after_id=last)))
            old_ms.append(seconds * 1000)
            index = grown
        full_ms = _seconds(lambda: SearchCache().get_index(conn, event_id, settings))[0] * 1000
        result["new_photo"] = {"incremental_ms": statistics.median(refresh_ms),
                               "copying_append_ms": statistics.median(old_ms),
                               "full_reload_ms": full_ms, "runs": refresh_ms}

        result["search_db"] = search_database_time(database, cache, event_id, settings,
                                                   people, args.searches)
        result["two_tiers"] = time_two_tiers(index, settings, people, args.searches)
    finally:
        conn.close()
        database.close()
    return result


def search_database_time(database, cache, event_id, settings, people, searches):
    """search_event's database milliseconds per search (warm cache), and the summary's."""
    clock = _Clock()
    conn = database.connect()
    raw, conn.raw = conn.raw, _TimedRaw(conn.raw, clock)
    selfie = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 100, 90)).save(selfie, "JPEG")
    try:
        event = events_db.get(conn, event_id)
        per_search, statements, summary_ms, found = [], [], [], []
        for n in range(searches + 2):
            engine = _GivenFaces(settings, people[n % len(people)][0])
            clock.seconds, clock.statements = 0.0, 0
            result = search_event(conn, engine, cache, event, [("selfie.jpg", selfie.getvalue())],
                                  tolerance=settings.tolerance, max_bytes=10**7)
            if n >= 2:  # the first two warm up
                per_search.append(clock.seconds * 1000)
                statements.append(clock.statements)
                found.append(len(result.matches))
                clock.seconds = 0.0
                photos_db.checkpoint_summary(conn, event_id)  # what every search ran before
                summary_ms.append(clock.seconds * 1000)
    finally:
        conn.raw = raw
        conn.close()
    new = statistics.median(per_search)
    return {"new_ms": new, "new_p95_ms": float(np.percentile(per_search, 95)),
            "summary_ms": statistics.median(summary_ms),
            "old_ms": new + statistics.median(summary_ms),
            "statements": statistics.median(statements), "matches": statistics.median(found)}


def old_within(index, query, tolerance):
    """``FaceIndex.within`` before ``within_many``: one product per query, and the rows
    the prefilter let through copied out."""
    query = np.asarray(query, dtype=np.float32).reshape(index.size)
    limit = index.squared_limit(tolerance)
    mean, basis, projected, projected_sq = index._projection()
    y = (query - mean) @ basis
    rows = np.flatnonzero(projected_sq - 2.0 * (projected @ y) + float(y @ y)
                          <= limit + PREFILTER_SLACK)
    squared = index.sq_norms[rows] - 2.0 * (index.encodings[rows] @ query) + float(query @ query)
    return rows[squared <= limit]


def time_two_tiers(index, settings, people, repeats):
    """two_tiers' milliseconds at this index, the per-query searches it ran before, and
    finding the unconfirmed faces' rows (np.isin before, bisection now)."""
    total, old, isin, bisect = [], [], [], []
    for n in range(repeats):
        query = people[n % len(people)][0]
        seconds, (yours, _asked) = _seconds(lambda: two_tiers(
            index, [query], settings.tolerance, settings.borderline, {}, 12))
        total.append(seconds * 1000)
        unconfirmed = [face for _p, _d, face, confirmed in yours if not confirmed]
        isin.append(_seconds(lambda: index.encodings[np.isin(index.face_ids, unconfirmed)])[0]
                    * 1000)
        bisect.append(_seconds(lambda: index.encodings[index.rows_of(unconfirmed)])[0] * 1000)
        searches = [(query, settings.tolerance), (query, settings.borderline)] + [
            (face, settings.tolerance) for face in index.encodings[index.rows_of(unconfirmed)]]
        old.append(_seconds(lambda: [old_within(index, q, limit) for q, limit in searches])[0]
                   * 1000)
    return {"ms": statistics.median(total), "per_query_ms": statistics.median(old),
            "isin_ms": statistics.median(isin), "rows_of_ms": statistics.median(bisect),
            "yours": len(yours)}


def machine():
    load = os.getloadavg()
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_before": [round(x, 2) for x in load], "python": platform.python_version(),
            "numpy": np.__version__}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=50_000)
    parser.add_argument("--faces-per-photo", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="cold loads of each loader")
    parser.add_argument("--refreshes", type=int, default=5, help="new photos added")
    parser.add_argument("--searches", type=int, default=20)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--report-dir", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args(argv)
    results = {"machine": machine(), "options": vars(args).copy(), "engines": []}
    results["options"].pop("report_dir")
    with postgres() as admin_url:
        for name in args.engines.split(","):
            database = f"bench_cache_{name}"
            url = fresh_database(admin_url, database)
            try:
                print(f"{name}: {args.photos} photos x {args.faces_per_photo} faces ...",
                      flush=True)
                results["engines"].append(measure_engine(url, name, args))
                print(json.dumps(results["engines"][-1], indent=1, default=float), flush=True)
            finally:
                drop_database(admin_url, database)
    results["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    judged = write(results, Path(args.report_dir))
    for row in judged:
        print(" | ".join(map(str, row)))


if __name__ == "__main__":
    main()
