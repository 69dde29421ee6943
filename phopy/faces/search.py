"""Find the photos a person is in: an in-memory matrix of face encodings.

Distances are Euclidean, as dlib's face model is trained for: two photos of
one person are typically 0.3-0.5 apart, different people mostly above 0.6.
``‖x - q‖² = ‖x‖² - 2 x·q + ‖q‖²`` turns a search into one matrix product.

Large indexes (``PREFILTER_MIN_FACES`` and up) also keep every encoding
projected on its ``PREFILTER_DIMS`` principal axes. The distance between two
projections is never more than the true distance, so faces whose projection is
beyond the tolerance are out for certain; only the few that pass are measured
exactly. Search stays exact while reading a quarter of the memory: that is what
keeps a 1M-face search on two cores within ~30 ms (see ``python -m bench``).

The ``cosine`` metric (SFace's 128-d and MobileFaceNet's 512-d unit vectors)
runs on the same machinery: for unit vectors 1 − cos(a, b) = ‖a − b‖² / 2, so a cosine
tolerance t is the squared-Euclidean limit 2t, the same matrix product and
the same prefilter bound, and distances are reported as 1 − cos.

An index is made for one engine (``EngineProfile``): its size, metric and
confident distance are that engine's, never looked up by metric.
"""
from dataclasses import dataclass

import numpy as np

from phopy.faces.rows import GrowingRows
from phopy.faces.settings import profile_for

ENCODING_SIZE = 128
# queries that share one pass over the index in FaceIndex.within_many
QUERY_BLOCK = 16
PREFILTER_MIN_FACES = 50_000
PREFILTER_DIMS = 32
# float32 rounding slack on the squared lower bound, so the filter never drops a match
PREFILTER_SLACK = 1e-4


class FaceIndex:
    """Encodings of many faces (float32, C-contiguous) with their face and photo ids.

    ``engine``: the engine that made them, by name or ``EngineProfile``; it gives
    the size, the metric ("euclidean": dlib; "cosine": unit vectors, SFace and
    MobileFaceNet) and the confident distance ``match_photos`` uses.

    The arrays are views of the first ``len(index)`` rows of buffers with room to
    grow (``spare`` rows at first, then an eighth more at every growth), so that
    :meth:`extended` writes a new photo's faces in place instead of copying the
    whole event (``python -m bench.cache``).
    """

    def __init__(self, face_ids, photo_ids, encodings, *, engine, spare=0):
        self.profile = profile_for(engine)
        self.metric = self.profile.metric
        self.size = self.profile.size
        face_ids = np.asarray(face_ids, dtype=np.int64).reshape(-1)
        photo_ids = np.asarray(photo_ids, dtype=np.int64).reshape(-1)
        if len(face_ids) == 0:
            matrix = np.zeros((0, self.size), dtype=np.float32)
        else:
            matrix = np.asarray(encodings, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.size:
            raise ValueError(f"encodings must be (n, {self.size}), got {matrix.shape}")
        if not len(face_ids) == len(photo_ids) == len(matrix):
            raise ValueError(f"{len(face_ids)} face ids, {len(photo_ids)} photo ids "
                             f"and {len(matrix)} encodings do not line up")
        self._rows = GrowingRows(len(face_ids), len(face_ids) + int(spare))
        for name, values in (("face_ids", face_ids), ("photo_ids", photo_ids),
                             ("encodings", matrix)):
            self._rows.add(name, values)
        matrix = self._rows.columns["encodings"][:len(face_ids)]  # contiguous, whatever came
        self._rows.add("sq_norms", np.einsum("ij,ij->i", matrix, matrix))
        self._prefilter = None
        self._view(len(face_ids))

    def _view(self, n):
        rows = self._rows.columns
        self.face_ids, self.photo_ids = rows["face_ids"][:n], rows["photo_ids"][:n]
        self.encodings, self.sq_norms = rows["encodings"][:n], rows["sq_norms"][:n]
        self.ids_sorted = n < 2 or bool(self._rows.sorted_upto >= n)

    @classmethod
    def from_rows(cls, rows, *, engine):
        """Build an index from (face_id, photo_id, encoding) rows; encoding may be bytes."""
        rows = list(rows)
        size = profile_for(engine).size
        return cls([r[0] for r in rows], [r[1] for r in rows],
                   [decode_encoding(r[2], size) for r in rows], engine=engine)

    def extended(self, face_ids, photo_ids, encodings):
        """A new index with more faces appended; what is computed per face (norms, the
        prefilter's projections) is computed for the new faces only.

        The new faces go into the buffers' spare rows when this index is the last one
        made from them (the rows this index reads are never written); otherwise, or
        when the spare rows are used up, into new buffers an eighth larger than needed.
        """
        more = FaceIndex(face_ids, photo_ids, encodings, engine=self.profile)
        if not len(more):
            return self
        n, total = len(self), len(self) + len(more)
        added = {"face_ids": more.face_ids, "photo_ids": more.photo_ids,
                 "encodings": more.encodings, "sq_norms": more.sq_norms}
        if self._prefilter is not None:  # any orthonormal basis keeps the bound exact
            mean, basis, _projected, _projected_sq = self._prefilter
            projected = np.ascontiguousarray((more.encodings - mean) @ basis)
            added["projected"] = projected
            added["projected_sq"] = np.einsum("ij,ij->i", projected, projected)
        rows = self._rows
        if ((self._prefilter is not None and "projected" not in rows.columns)
                or not rows.claim(n, total)):
            rows = rows.grown(self, total)
        index = FaceIndex.__new__(FaceIndex)
        index.profile, index.metric, index.size = self.profile, self.metric, self.size
        index._rows = rows
        rows.write(n, added, sorted_after=self.ids_sorted
                   and (n == 0 or more.face_ids[0] > self.face_ids[-1]) and more.ids_sorted)
        index._prefilter = None
        if self._prefilter is not None:
            index._prefilter = (self._prefilter[0], self._prefilter[1],
                                rows.columns["projected"][:total],
                                rows.columns["projected_sq"][:total])
        index._view(total)
        return index

    def rows_of(self, face_ids):
        """The rows of these face ids (those in the index), ascending.

        Ids in ascending order (as the search cache loads and appends them) are found
        by bisection, not by a pass over every face per id (``np.isin``)."""
        wanted = np.unique(np.asarray(face_ids, dtype=np.int64).reshape(-1))
        if not len(wanted) or not len(self):
            return np.zeros(0, dtype=np.int64)
        if not self.ids_sorted:
            return np.flatnonzero(np.isin(self.face_ids, wanted))
        at = np.searchsorted(self.face_ids, wanted)
        inside = at < len(self)
        at, wanted = at[inside], wanted[inside]
        return at[self.face_ids[at] == wanted]

    def squared_limit(self, tolerance):
        """The squared-Euclidean limit that a tolerance in this metric means."""
        tolerance = float(tolerance)
        return 2.0 * tolerance if self.metric == "cosine" else tolerance ** 2

    def from_squared(self, squared):
        """Distances in this metric from squared Euclidean distances."""
        squared = np.maximum(squared, 0.0)
        return squared / 2.0 if self.metric == "cosine" else np.sqrt(squared)

    def __len__(self):
        return len(self.face_ids)

    @property
    def nbytes(self):
        """Return the memory held by the index's buffers (spare rows included), in bytes."""
        held = self._rows.nbytes
        if self._prefilter is not None and "projected" not in self._rows.columns:
            held += self._prefilter[2].nbytes + self._prefilter[3].nbytes
        return held

    def within(self, query, tolerance):
        """Return (rows, distances) of the faces within tolerance of one query."""
        return self.within_many(np.asarray(query).reshape(1, self.size), tolerance)[0]

    def within_many(self, queries, tolerance):
        """[(rows, distances)] of the faces within tolerance of each query.

        ``QUERY_BLOCK`` queries share one pass over the index (a matrix product, not one
        product per query): "is this you?" asks about the faces near every selfie and
        every face matched, 40 queries and more. When the prefilter lets most faces
        through (vectors spread over all axes alike), the exact distances of the block
        are one product over every face too, instead of copying the rows that passed.
        """
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.size)
        limit = self.squared_limit(tolerance)
        found = []
        for start in range(0, len(queries), QUERY_BLOCK):
            block = queries[start:start + QUERY_BLOCK]
            block_sq = np.einsum("ij,ij->i", block, block)
            passed = None
            if len(self) >= PREFILTER_MIN_FACES:
                mean, basis, projected, projected_sq = self._projection()
                y = (block - mean) @ basis
                lower = (projected_sq - 2.0 * (y @ projected.T)
                         + np.einsum("ij,ij->i", y, y)[:, np.newaxis])
                passed = [np.flatnonzero(row <= limit + PREFILTER_SLACK) for row in lower]
            if passed is None or sum(map(len, passed)) > len(self) * len(block) // 4:
                squared = (self.sq_norms - 2.0 * (block @ self.encodings.T)
                           + block_sq[:, np.newaxis])
                for row in squared:
                    rows = np.flatnonzero(row <= limit)
                    found.append((rows, self.from_squared(row[rows])))
                continue
            for query, query_sq, rows in zip(block, block_sq, passed):
                squared = (self.sq_norms[rows] - 2.0 * (self.encodings[rows] @ query)
                           + float(query_sq))
                keep = squared <= limit
                found.append((rows[keep], self.from_squared(squared[keep])))
        return found

    def _projection(self):
        """Principal axes and projected encodings, built on first large search."""
        if self._prefilter is None:
            step = max(1, len(self) // 200_000)
            sample = self.encodings[::step].astype(np.float64)
            mean = sample.mean(axis=0)
            centered = sample - mean
            _, vectors = np.linalg.eigh(centered.T @ centered)
            basis = np.ascontiguousarray(vectors[:, ::-1][:, :PREFILTER_DIMS], dtype=np.float32)
            mean = mean.astype(np.float32)
            projected = np.ascontiguousarray((self.encodings - mean) @ basis)
            projected_sq = np.einsum("ij,ij->i", projected, projected)
            if self._rows.add_if_last(len(self), {"projected": projected,
                                                  "projected_sq": projected_sq}):
                projected = self._rows.columns["projected"][:len(self)]
                projected_sq = self._rows.columns["projected_sq"][:len(self)]
            self._prefilter = (mean, basis, projected, projected_sq)
        return self._prefilter

    def distances(self, query):
        """Return the distance (this metric) from one query to every face, shape (n,)."""
        return self.distances_many(np.asarray(query).reshape(1, -1))[0]

    def distances_many(self, queries):
        """Return distances (this metric) from each query row to every face, shape (m, n)."""
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.size)
        squared = (self.sq_norms[np.newaxis, :]
                   - 2.0 * (queries @ self.encodings.T)
                   + np.einsum("ij,ij->i", queries, queries)[:, np.newaxis])
        return self.from_squared(squared)


@dataclass
class PhotoMatch:
    """A photo someone is in: its closest face and that face's distance."""

    photo_id: int
    distance: float
    face_id: int


def match_photos(index, selfie_encodings, tolerance, confident=None):
    """Return photos with a face close enough to the person, closest first, once each.

    One selfie: faces within ``tolerance`` of it. Several selfies: faces within
    ``tolerance * sqrt((1 + 1/n) / 2)`` of their mean encoding. The mean of n
    photos of one person is a steadier estimate of them than any one photo, and
    its distance to another photo of them shrinks by that factor (independent
    noise), so the same ``tolerance`` means the same strictness. On the
    benchmark's events this keeps the recall of taking the closest selfie while
    cutting false matches several-fold (``python -m bench`` has the sweep).

    A face within ``confident`` (default: the index's engine's; at most
    ``tolerance``) of any single selfie is always kept, so adding a selfie never
    loses a photo that one selfie matched with confidence. So is a face that two
    of the selfies each match within ``tolerance``: two looks agreeing is the
    evidence one selfie alone is trusted with, twice. On the benchmark's events
    this lifts three-selfie recall (MobileFaceNet 0.972 -> 0.982 on seed 3, dlib
    +0.04 to +0.10) while precision stays above one selfie's on every seed.

    With the cosine metric the mean is re-normalised and its tolerance follows
    the same noise model on the sphere (``_cosine_mean_tolerance``).
    A photo appears once, with its closest face: one person is in a photo once.
    """
    if len(index) == 0 or len(selfie_encodings) == 0:
        return []
    selfies = np.asarray(np.stack(selfie_encodings), dtype=np.float32).reshape(-1, index.size)
    n = len(selfies)
    if n == 1:
        found = [index.within(selfies[0], tolerance)]
    else:
        sure = min(tolerance, index.profile.confident if confident is None else confident)
        mean = selfies.mean(axis=0)
        if index.metric == "cosine":
            mean = mean / max(float(np.linalg.norm(mean)), 1e-12)
            found = [index.within(mean, _cosine_mean_tolerance(tolerance, n))]
        else:
            found = [index.within(mean, tolerance * np.sqrt((1 + 1 / n) / 2))]
        each = index.within_many(selfies, tolerance)
        votes = np.unique(np.concatenate([rows for rows, _ in each]), return_counts=True)
        seconded = votes[0][votes[1] >= 2]
        for rows, distances in each:
            keep = (distances <= sure) | np.isin(rows, seconded)
            found.append((rows[keep], distances[keep]))
    hits = np.unique(np.concatenate([rows for rows, _ in found]))
    if len(hits) == 0:
        return []
    nearest = np.full(len(hits), np.inf, dtype=np.float64)
    for rows, distances in found:
        at = np.searchsorted(hits, rows)
        nearest[at] = np.minimum(nearest[at], distances)
    order = np.lexsort((index.photo_ids[hits], nearest))
    _, first = np.unique(index.photo_ids[hits[order]], return_index=True)
    best = order[np.sort(first)]
    return [PhotoMatch(int(index.photo_ids[hits[i]]), float(nearest[i]),
                       int(index.face_ids[hits[i]])) for i in best]


def nearby_faces(index, queries, limit):
    """Faces within ``limit`` of any one query, one per photo (its closest), closest first.

    The "is this you?" band of a search: each query (a selfie or a face the
    attendee confirmed) on its own, no mean, since these faces are asked about,
    not shown. Returns PhotoMatch values (photo, distance, face).
    """
    if len(index) == 0 or len(queries) == 0:
        return []
    best = {}
    for rows, distances in index.within_many(np.asarray(queries), limit):
        for row, distance in zip(rows.tolist(), distances.tolist()):
            photo = int(index.photo_ids[row])
            if photo not in best or distance < best[photo][0]:
                best[photo] = (float(distance), int(index.face_ids[row]))
    return [PhotoMatch(photo, distance, face) for photo, (distance, face) in
            sorted(best.items(), key=lambda item: (item[1][0], item[0]))]


def two_tiers(index, queries, tolerance, borderline, answers, max_asked):
    """One answer of "is this you?": (yours, asked).

    ``queries``: the selfies' encodings then one per confirmed face (a confirmed face
    counts as one more look, the multi-selfie rule of ``match_photos``). ``answers``:
    {photo id: (face id, "me" | "not_me")}. ``yours``: (photo, distance, face,
    confirmed) of the photos matched within ``tolerance`` and of the confirmed ones,
    never a "not me" photo; ``asked``: PhotoMatch values of the faces within
    ``borderline`` of any one query, one per photo, closest first, at most
    ``max_asked``, never a photo already shown or answered — and of the faces
    within ``tolerance`` of a face matched with confidence but not yet confirmed:
    the attendee's own face of that day finds a photo their selfie is too far from
    (bench.confirm: recall 0.986 → 1.000 on seed 2 at no cost in precision), and
    since it is only asked about, a chain of look-alikes never reaches "yours".
    """
    not_me = {p for p, (_f, a) in answers.items() if a == "not_me"}
    confirmed = {p: f for p, (f, a) in answers.items() if a == "me"}
    found = {m.photo_id: m for m in match_photos(index, queries, tolerance)
             if m.photo_id not in not_me}
    yours = [(m.photo_id, m.distance, m.face_id, m.photo_id in confirmed)
             for m in found.values()]
    yours += [(p, 0.0, f, True) for p, f in confirmed.items() if p not in found]
    shown = {p for p, *_ in yours}
    asked = {m.photo_id: m for m in nearby_faces(index, queries, borderline)
             if m.photo_id not in shown and m.photo_id not in answers}
    unconfirmed = [m.face_id for p, m in found.items() if p not in confirmed]
    matched = index.encodings[index.rows_of(unconfirmed)] if unconfirmed else []
    for m in nearby_faces(index, matched, tolerance):
        if m.photo_id not in shown and m.photo_id not in answers and (
                m.photo_id not in asked or m.distance < asked[m.photo_id].distance):
            asked[m.photo_id] = m
    asked = sorted(asked.values(), key=lambda m: (m.distance, m.photo_id))[:max_asked]
    return yours, asked


def _cosine_mean_tolerance(tolerance, n):
    """Cosine tolerance for the normalised mean of n selfies, given one selfie's.

    Model: a unit identity direction plus independent noise of variance s² per
    photo. One selfie vs a photo: cos = 1 / (1 + s²), which fixes s² from the
    tolerance; the mean of n vs a photo: cos = 1 / sqrt((1 + s²)(1 + s²/n)).
    For small distances this is ``tolerance * (1 + 1/n) / 2``, the Euclidean rule.
    """
    cos_one = min(max(1.0 - float(tolerance), 1e-3), 1.0)
    noise = 1.0 / cos_one - 1.0
    return 1.0 - 1.0 / np.sqrt((1.0 + noise) * (1.0 + noise / n))


def encode_encoding(encoding, size=ENCODING_SIZE):
    """Return the bytes (float32, little-endian) stored for an encoding of ``size`` values."""
    array = np.asarray(encoding, dtype="<f4").reshape(-1)
    if array.shape != (size,):
        raise ValueError(f"an encoding has {size} values, got {array.shape}")
    return array.tobytes()


def decode_encoding(value, size=ENCODING_SIZE):
    """Return a float32 (size,) array from stored bytes or any array-like."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        array = np.frombuffer(bytes(value), dtype="<f4")
    else:
        array = np.asarray(value, dtype=np.float32).reshape(-1)
    if array.shape != (size,):
        raise ValueError(f"an encoding has {size} values, got {array.shape}")
    return array.astype(np.float32, copy=False)
