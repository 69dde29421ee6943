import numpy as np
import pytest

from phopy.faces import FaceIndex, PhotoMatch, match_photos
from phopy.faces.search import decode_encoding, encode_encoding


def random_index(rng, faces=300, photos=60):
    encodings = rng.normal(0, 0.1, size=(faces, 128)).astype(np.float64)
    photo_ids = rng.integers(1, photos + 1, size=faces)
    return FaceIndex(np.arange(1000, 1000 + faces), photo_ids, encodings)


def test_distances_equal_the_numpy_reference():
    rng = np.random.default_rng(7)
    index = random_index(rng)
    assert index.encodings.dtype == np.float32 and index.encodings.flags.c_contiguous
    for query in rng.normal(0, 0.1, size=(5, 128)):
        expected = np.linalg.norm(index.encodings.astype(np.float64) - query, axis=1)
        assert np.allclose(index.distances(query), expected, atol=1e-4, rtol=0)
    assert index.distances(index.encodings[3])[3] < 1e-3  # a face is at ~0 from itself


def test_distances_many_is_distances_per_row():
    rng = np.random.default_rng(8)
    index = random_index(rng)
    queries = rng.normal(0, 0.1, size=(3, 128))
    many = index.distances_many(queries)
    assert many.shape == (3, len(index))
    for row, query in zip(many, queries):
        assert np.allclose(row, index.distances(query), atol=1e-6)


def test_empty_index():
    index = FaceIndex([], [], [])
    assert len(index) == 0 and index.nbytes == 0
    assert index.distances(np.zeros(128)).shape == (0,)
    assert match_photos(index, [np.zeros(128, dtype=np.float32)], 0.5) == []


def test_size_and_memory():
    index = FaceIndex([1, 2], [10, 10], np.zeros((2, 128)))
    assert len(index) == 2 and index.nbytes == 2 * 128 * 4


def test_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError):
        FaceIndex([1, 2], [10], np.zeros((2, 128)))
    with pytest.raises(ValueError):
        FaceIndex([1], [10], np.zeros((1, 64)))


def test_match_photos_one_entry_per_photo_closest_face_first():
    encodings = np.zeros((4, 128), dtype=np.float32)
    encodings[:, 0] = [0.1, 0.3, 0.2, 0.9]  # distances from the zero query
    index = FaceIndex([11, 12, 13, 14], [1, 1, 2, 3], encodings)
    matches = match_photos(index, [np.zeros(128)], tolerance=0.5)
    assert [(m.photo_id, m.face_id) for m in matches] == [(1, 11), (2, 13)]
    assert matches[0] == PhotoMatch(photo_id=1, distance=pytest.approx(0.1, abs=1e-4), face_id=11)
    assert match_photos(index, [], tolerance=0.5) == []


def test_match_photos_tolerance_is_inclusive():
    encodings = np.zeros((1, 128), dtype=np.float32)
    encodings[0, 0] = 0.5
    index = FaceIndex([1], [1], encodings)
    assert len(match_photos(index, [np.zeros(128)], tolerance=0.5)) == 1


@pytest.mark.parametrize("seed", range(5))
def test_match_photos_properties(seed):
    rng = np.random.default_rng(seed)
    index = random_index(rng)
    selfies = list(index.encodings[rng.choice(len(index), 3)] + rng.normal(0, 0.04, (3, 128)))
    tolerance = 1.0
    previous = {}
    for n in range(1, len(selfies) + 1):
        matches = match_photos(index, selfies[:n], tolerance)
        photo_ids = [m.photo_id for m in matches]
        distances = [m.distance for m in matches]
        assert len(photo_ids) == len(set(photo_ids))            # each photo once
        assert distances == sorted(distances)                   # best first
        assert all(d <= tolerance for d in distances)
        for m in matches:                                       # its closest face
            assert index.photo_ids[index.face_ids == m.face_id] == m.photo_id
            faces = index.photo_ids == m.photo_id
            best = min(index.distances(s)[faces].min() for s in selfies[:n])
            assert m.distance == pytest.approx(best, abs=1e-5)
        current = {m.photo_id: m.distance for m in matches}
        # adding a selfie never loses a photo, nor makes it look worse
        assert all(photo in current and current[photo] <= d + 1e-6
                   for photo, d in previous.items())
        previous = current
    assert previous  # the test data does produce matches


def test_encoding_bytes_round_trip():
    encoding = np.random.default_rng(3).normal(size=128).astype(np.float32)
    data = encode_encoding(encoding)
    assert len(data) == 512
    assert np.array_equal(decode_encoding(data), encoding)
    assert np.array_equal(decode_encoding(memoryview(data)), encoding)
    index = FaceIndex.from_rows([(1, 2, data), (3, 4, encoding)])
    assert np.array_equal(index.encodings[0], index.encodings[1])
    with pytest.raises(ValueError):
        decode_encoding(b"\x00" * 100)
