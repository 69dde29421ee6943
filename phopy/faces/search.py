"""Find the photos a person is in: an in-memory matrix of face encodings.

Distances are Euclidean, as dlib's face model is trained for: two photos of
one person are typically 0.3-0.5 apart, different people mostly above 0.6.
``‖x - q‖² = ‖x‖² - 2 x·q + ‖q‖²`` turns a search into one matrix product.
"""
from dataclasses import dataclass

import numpy as np

ENCODING_SIZE = 128


class FaceIndex:
    """Encodings of many faces (float32, C-contiguous) with their face and photo ids."""

    def __init__(self, face_ids, photo_ids, encodings):
        self.face_ids = np.asarray(face_ids, dtype=np.int64).reshape(-1)
        self.photo_ids = np.asarray(photo_ids, dtype=np.int64).reshape(-1)
        if len(self.face_ids) == 0:
            matrix = np.zeros((0, ENCODING_SIZE), dtype=np.float32)
        else:
            matrix = np.ascontiguousarray(np.asarray(encodings, dtype=np.float32))
        if matrix.ndim != 2 or matrix.shape[1] != ENCODING_SIZE:
            raise ValueError(f"encodings must be (n, {ENCODING_SIZE}), got {matrix.shape}")
        if not len(self.face_ids) == len(self.photo_ids) == len(matrix):
            raise ValueError(f"{len(self.face_ids)} face ids, {len(self.photo_ids)} photo ids "
                             f"and {len(matrix)} encodings do not line up")
        self.encodings = matrix
        self.sq_norms = np.einsum("ij,ij->i", matrix, matrix)

    @classmethod
    def from_rows(cls, rows):
        """Build an index from (face_id, photo_id, encoding) rows; encoding may be bytes."""
        rows = list(rows)
        return cls([r[0] for r in rows], [r[1] for r in rows],
                   [decode_encoding(r[2]) for r in rows])

    def __len__(self):
        return len(self.face_ids)

    @property
    def nbytes(self):
        """Return the memory held by the encoding matrix, in bytes."""
        return self.encodings.nbytes

    def distances(self, query):
        """Return the Euclidean distance from query (128,) to every face, shape (n,)."""
        return self.distances_many(np.asarray(query).reshape(1, -1))[0]

    def distances_many(self, queries):
        """Return Euclidean distances from each query row to every face, shape (m, n)."""
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, ENCODING_SIZE)
        squared = (self.sq_norms[np.newaxis, :]
                   - 2.0 * (queries @ self.encodings.T)
                   + np.einsum("ij,ij->i", queries, queries)[:, np.newaxis])
        return np.sqrt(np.maximum(squared, 0.0))


@dataclass
class PhotoMatch:
    """A photo someone is in: its closest face and that face's distance."""

    photo_id: int
    distance: float
    face_id: int


def match_photos(index, selfie_encodings, tolerance):
    """Return photos with a face within tolerance of any selfie, closest first, once each."""
    if len(index) == 0 or len(selfie_encodings) == 0:
        return []
    # A face's distance to the person is its distance to the closest selfie, so
    # adding a selfie can only shorten distances and never drops a match.
    nearest = index.distances_many(np.stack(selfie_encodings)).min(axis=0)
    hits = np.flatnonzero(nearest <= tolerance)
    if len(hits) == 0:
        return []
    order = hits[np.lexsort((index.photo_ids[hits], nearest[hits]))]
    _, first = np.unique(index.photo_ids[order], return_index=True)
    best = order[np.sort(first)]
    return [PhotoMatch(int(index.photo_ids[i]), float(nearest[i]), int(index.face_ids[i]))
            for i in best]


def encode_encoding(encoding):
    """Return the 512 bytes (float32, little-endian) stored for an encoding."""
    array = np.asarray(encoding, dtype="<f4").reshape(-1)
    if array.shape != (ENCODING_SIZE,):
        raise ValueError(f"an encoding has {ENCODING_SIZE} values, got {array.shape}")
    return array.tobytes()


def decode_encoding(value):
    """Return a float32 (128,) array from stored bytes or any array-like."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        array = np.frombuffer(bytes(value), dtype="<f4")
    else:
        array = np.asarray(value, dtype=np.float32).reshape(-1)
    if array.shape != (ENCODING_SIZE,):
        raise ValueError(f"an encoding has {ENCODING_SIZE} values, got {array.shape}")
    return array.astype(np.float32, copy=False)
