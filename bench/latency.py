"""Search latency: Phopy's vector search against ``face_recognition.face_distance``.

Scale runs use synthetic 128-d vectors drawn from a Gaussian fitted to real
face encodings (mean and covariance of an event's faces), so distances look
like those between different people; a few planted near copies give each
query real matches. Both sides search the same float32 matrix.
"""
import time

import numpy as np


def synthetic_encodings(count, real=None, seed=0):
    """``count`` random encodings shaped like ``real`` (or plain Gaussian)."""
    rng = np.random.default_rng(seed)
    if real is not None and len(real) >= 64:
        real = np.asarray(real, dtype=np.float64)
        mean, cov = real.mean(axis=0), np.cov(real, rowvar=False)
        chol = np.linalg.cholesky(cov + 1e-6 * np.eye(real.shape[1]))
        out = np.empty((count, real.shape[1]), dtype=np.float32)
        for start in range(0, count, 100_000):
            n = min(100_000, count - start)
            out[start:start + n] = mean + rng.standard_normal((n, real.shape[1])) @ chol.T
        return out
    return (rng.standard_normal((count, 128)) * 0.09).astype(np.float32)


def plant_matches(encodings, queries, per_query=5, spread=0.35, seed=1):
    """Overwrite a few rows with near copies of each query (distance ~ spread)."""
    rng = np.random.default_rng(seed)
    dim = encodings.shape[1]
    for q in queries:
        rows = rng.choice(len(encodings), per_query, replace=False)
        noise = rng.standard_normal((per_query, dim)).astype(np.float32)
        noise *= spread / np.linalg.norm(noise, axis=1, keepdims=True)
        encodings[rows] = q + noise


def percentiles(seconds):
    """p50 and p95 in milliseconds."""
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "runs": len(ms)}


def time_calls(function, queries, warmup=2):
    """Call ``function(q)`` for every query; return the per-call seconds."""
    for q in queries[:warmup]:
        function(q)
    seconds = []
    for q in queries:
        start = time.perf_counter()
        function(q)
        seconds.append(time.perf_counter() - start)
    return seconds


def bench_vector_search(sizes, real=None, tolerance=0.5, queries=40,
                        reference_queries=None, faces_per_photo=4):
    """p50/p95 of Phopy's index search and of face_distance at each size."""
    import face_recognition
    from phopy.faces import FaceIndex, match_photos

    rows = []
    largest = max(sizes)
    data = synthetic_encodings(largest, real, seed=0)
    query_vectors = synthetic_encodings(queries, real, seed=99)
    plant_matches(data[: min(sizes)], query_vectors)
    for size in sizes:
        encodings = np.ascontiguousarray(data[:size])
        face_ids = np.arange(size, dtype=np.int64)
        photo_ids = face_ids // faces_per_photo
        start = time.perf_counter()
        index = FaceIndex(face_ids, photo_ids, encodings, engine="dlib")
        build_s = time.perf_counter() - start
        phopy_s = time_calls(lambda q: match_photos(index, [q], tolerance), list(query_vectors))
        n_ref = reference_queries or (queries if size <= 100_000 else 10)
        ref_s = time_calls(lambda q: face_recognition.face_distance(encodings, q) <= tolerance,
                           list(query_vectors[:n_ref]), warmup=1)
        hits = len(match_photos(index, [query_vectors[0]], tolerance))
        rows.append({"faces": size, "phopy": percentiles(phopy_s),
                     "face_distance": percentiles(ref_s), "index_build_s": build_s,
                     "index_nbytes": int(index.nbytes), "photos_matched_q0": hits})
        del index
    return rows
