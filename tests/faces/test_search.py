import numpy as np
import pytest

from phopy.faces import FaceIndex, PhotoMatch, match_photos
from phopy.faces.search import decode_encoding, encode_encoding
from phopy.faces.settings import PROFILES


def random_index(rng, faces=300, photos=60):
    encodings = rng.normal(0, 0.1, size=(faces, 128)).astype(np.float64)
    photo_ids = rng.integers(1, photos + 1, size=faces)
    return FaceIndex(np.arange(1000, 1000 + faces), photo_ids, encodings, engine="dlib")


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
    index = FaceIndex([], [], [], engine="dlib")
    assert len(index) == 0 and index.nbytes == 0
    assert index.distances(np.zeros(128)).shape == (0,)
    assert match_photos(index, [np.zeros(128, dtype=np.float32)], 0.5) == []


def test_size_and_memory():
    index = FaceIndex([1, 2], [10, 10], np.zeros((2, 128)), engine="dlib")
    row = 128 * 4 + 8 + 8 + 4  # its encoding, face and photo ids, squared norm
    assert len(index) == 2 and index.nbytes == 2 * row
    roomy = FaceIndex([1, 2], [10, 10], np.zeros((2, 128)), engine="dlib", spare=3)
    assert len(roomy) == 2 and roomy.nbytes == 5 * row  # spare rows are held memory


def test_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError):
        FaceIndex([1, 2], [10], np.zeros((2, 128)), engine="dlib")
    with pytest.raises(ValueError):
        FaceIndex([1], [10], np.zeros((1, 64)), engine="dlib")
    with pytest.raises(ValueError, match="engine must be one of"):
        FaceIndex([1], [10], np.zeros((1, 128)), engine="cosine")


def test_match_photos_one_entry_per_photo_closest_face_first():
    encodings = np.zeros((4, 128), dtype=np.float32)
    encodings[:, 0] = [0.1, 0.3, 0.2, 0.9]  # distances from the zero query
    index = FaceIndex([11, 12, 13, 14], [1, 1, 2, 3], encodings, engine="dlib")
    matches = match_photos(index, [np.zeros(128)], tolerance=0.5)
    assert [(m.photo_id, m.face_id) for m in matches] == [(1, 11), (2, 13)]
    assert matches[0] == PhotoMatch(photo_id=1, distance=pytest.approx(0.1, abs=1e-4), face_id=11)
    assert match_photos(index, [], tolerance=0.5) == []


def test_match_photos_tolerance_is_inclusive():
    encodings = np.zeros((1, 128), dtype=np.float32)
    encodings[0, 0] = 0.5
    index = FaceIndex([1], [1], encodings, engine="dlib")
    assert len(match_photos(index, [np.zeros(128)], tolerance=0.5)) == 1


@pytest.mark.parametrize("seed", range(5))
def test_match_photos_properties(seed):
    rng = np.random.default_rng(seed)
    index = random_index(rng)
    person = index.encodings[rng.integers(len(index))]
    selfies = list(person + rng.normal(0, 0.04, (3, 128)))     # three photos of one face
    tolerance = 1.0
    for n in range(1, len(selfies) + 1):
        matches = match_photos(index, selfies[:n], tolerance)
        # one selfie: itself; several: their mean, at a tolerance scaled for the mean
        query = np.mean(selfies[:n], axis=0)
        limit = tolerance * np.sqrt((1 + 1 / n) / 2) if n > 1 else tolerance
        photo_ids = [m.photo_id for m in matches]
        distances = [m.distance for m in matches]
        assert len(photo_ids) == len(set(photo_ids))            # each photo once
        assert distances == sorted(distances)                   # best first
        assert all(d <= limit + 1e-6 for d in distances)
        mean_distances = index.distances(query)
        for m in matches:                                       # its closest face
            assert index.photo_ids[index.face_ids == m.face_id] == m.photo_id
            faces = index.photo_ids == m.photo_id
            assert m.distance <= mean_distances[faces].min() + 1e-5
        expected = {int(p) for p in index.photo_ids[mean_distances <= limit - 1e-5]}
        assert expected <= set(photo_ids)                       # nothing within reach is lost
        assert matches                                          # the data does produce matches


@pytest.mark.parametrize("seed", range(5))
def test_adding_a_selfie_never_loses_a_confident_match(seed):
    rng = np.random.default_rng(seed)
    index = random_index(rng)
    person = index.encodings[rng.integers(len(index))]
    # Selfies of varied quality: one close to the person, others noisier.
    selfies = [person + rng.normal(0, s, 128) for s in (0.01, 0.05, 0.08)]
    tolerance, confident = 1.0, 0.8
    kept = set()
    for n in range(1, len(selfies) + 1):
        found = {m.photo_id: m.distance for m in match_photos(index, selfies[:n], tolerance,
                                                                confident=confident)}
        assert kept <= set(found)
        for selfie in selfies[:n]:
            sure = index.photo_ids[index.distances(selfie) <= confident - 1e-5]
            assert {int(p) for p in sure} <= set(found)
            kept |= {int(p) for p in sure}
    assert kept


def test_several_selfies_are_averaged():
    encodings = np.zeros((2, 128), dtype=np.float32)
    encodings[1, 0] = 0.45                      # face 1 at the origin, face 2 at 0.45
    index = FaceIndex([1, 2], [10, 20], encodings, engine="dlib")
    near, far = np.zeros(128, dtype=np.float32), np.zeros(128, dtype=np.float32)
    far[0] = 0.9
    assert [m.photo_id for m in match_photos(index, [far], 0.5)] == [20]
    # two selfies: their mean, within 0.5 * sqrt(3/4) ~ 0.433 (face 2 is 0.5 from it,
    # and only one of them is within 0.5 of face 2)
    other = np.zeros(128, dtype=np.float32)
    other[0] = -0.1
    assert [m.photo_id for m in match_photos(index, [near, other], 0.5)] == [10]
    mean_match = match_photos(index, [near, far], 0.5)
    # face 2 via the mean; face 1 because the near selfie matched it with confidence
    assert [(m.photo_id, m.distance) for m in mean_match] == [
        (10, pytest.approx(0, abs=1e-3)), (20, pytest.approx(0, abs=1e-3))]


def test_a_face_two_selfies_each_match_is_kept():
    index = FaceIndex([1, 2], [10, 20], np.zeros((2, 128), dtype=np.float32) + [[0], [5]], engine="dlib")
    a, b, far, farther = (np.zeros(128, dtype=np.float32) for _ in range(4))
    a[0], b[1], far[2], farther[3] = 0.48, 0.48, 2.0, 2.0   # a, b: 0.48 from face 1
    # the mean of three is ~0.70 from face 1, beyond 0.5 * sqrt(2/3); 0.48 is not confident
    assert match_photos(index, [a, far, farther], 0.5, confident=0.42) == []
    (match,) = match_photos(index, [a, b, far], 0.5, confident=0.42)
    assert (match.photo_id, match.face_id) == (10, 1)
    assert match.distance == pytest.approx(0.48, abs=1e-4)
    assert match_photos(index, [a, b, far], 0.47, confident=0.42) == []


def test_encoding_bytes_round_trip():
    encoding = np.random.default_rng(3).normal(size=128).astype(np.float32)
    data = encode_encoding(encoding)
    assert len(data) == 512
    assert np.array_equal(decode_encoding(data), encoding)
    assert np.array_equal(decode_encoding(memoryview(data)), encoding)
    index = FaceIndex.from_rows([(1, 2, data), (3, 4, encoding)], engine="dlib")
    assert np.array_equal(index.encodings[0], index.encodings[1])
    with pytest.raises(ValueError):
        decode_encoding(b"\x00" * 100)


def test_large_index_prefilter_is_exact(monkeypatch):
    from phopy.faces import search
    monkeypatch.setattr(search, "PREFILTER_MIN_FACES", 100)
    rng = np.random.default_rng(11)
    index = random_index(rng, faces=3000, photos=700)
    for query in index.encodings[:5] + rng.normal(0, 0.05, size=(5, 128)):
        expected = np.linalg.norm(index.encodings.astype(np.float64) - query, axis=1)
        rows, distances = index.within(query, 1.2)
        assert set(rows) == set(np.flatnonzero(expected <= 1.2))
        assert np.allclose(distances, expected[rows], atol=1e-4)
    assert index.nbytes > 3000 * 128 * 4   # the projections count too


def unit_index(rng, faces, photos, engine="mobilefacenet"):
    size = PROFILES[engine].size
    vectors = rng.normal(size=(faces, size)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return FaceIndex(np.arange(faces), rng.integers(0, photos, faces), vectors, engine=engine)


@pytest.mark.parametrize("prefilter", [False, True])
def test_cosine_index_is_exact_with_and_without_prefilter(monkeypatch, prefilter):
    from phopy.faces import search
    if prefilter:
        monkeypatch.setattr(search, "PREFILTER_MIN_FACES", 100)
    rng = np.random.default_rng(5)
    index = unit_index(rng, faces=2000, photos=500)
    for base in index.encodings[:5]:
        query = base + rng.normal(0, 0.03, size=512).astype(np.float32)
        query /= np.linalg.norm(query)
        expected = 1.0 - index.encodings.astype(np.float64) @ query
        rows, distances = index.within(query, 0.55)
        assert set(rows) == set(np.flatnonzero(expected <= 0.55)) and len(rows) >= 1
        assert np.allclose(distances, expected[rows], atol=1e-4)
        assert np.allclose(index.distances(query), expected, atol=1e-4)


def test_cosine_match_photos_averages_on_the_sphere():
    rng = np.random.default_rng(9)
    person = rng.normal(size=512)
    person /= np.linalg.norm(person)

    def near(noise):
        v = person + rng.normal(0, noise, size=512)
        return (v / np.linalg.norm(v)).astype(np.float32)

    photos = np.stack([near(0.03) for _ in range(20)] + [unit_index(rng, 20, 1).encodings[i]
                                                          for i in range(20)])
    index = FaceIndex(np.arange(40), np.arange(40), photos, engine="mobilefacenet")
    selfies = [near(0.03) for _ in range(3)]
    one = {m.photo_id for m in match_photos(index, selfies[:1], 0.55)}
    three = {m.photo_id for m in match_photos(index, selfies, 0.55)}
    assert one <= three and three == set(range(20))  # never a stranger, never less
    with pytest.raises(ValueError):
        FaceIndex([1], [1], np.zeros((1, 128)), engine="mobilefacenet")


def test_thresholds_are_the_engines_never_the_metrics():
    """SFace and MobileFaceNet share the cosine metric, SFace and dlib the size (128):
    each index takes its size, metric and confident distance from its own engine."""
    sface, mfn = PROFILES["sface"], PROFILES["mobilefacenet"]
    assert sface.metric == mfn.metric and sface.size == PROFILES["dlib"].size
    assert sface.confident != mfn.confident, "the test needs two different values"
    index = unit_index(np.random.default_rng(2), 10, 10, engine="sface")
    assert (index.size, index.metric, index.profile) == (128, "cosine", sface)
    # Two selfies disagree; one is within tolerance of a face, between the two
    # engines' confident distances: only the engine whose confident distance
    # covers it keeps the face (a by-metric lookup gives both the same answer).
    low, high = sorted((sface.confident, mfn.confident))
    between = (low + high) / 2
    tolerance = max(sface.tolerance, mfn.tolerance)
    kept = {}
    for engine in ("sface", "mobilefacenet"):
        size = PROFILES[engine].size
        face = np.zeros(size, dtype=np.float32)
        face[0] = 1.0
        near = np.zeros(size, dtype=np.float32)     # 1 - cos(face, near) == between
        near[0], near[1] = 1.0 - between, np.sqrt(1.0 - (1.0 - between) ** 2)
        away = np.zeros(size, dtype=np.float32)     # a second selfie pointing elsewhere
        away[2] = 1.0
        index = FaceIndex([1], [7], face[np.newaxis], engine=engine)
        (one,) = match_photos(index, [near], tolerance)
        assert one.distance == pytest.approx(between, abs=1e-5)
        kept[engine] = [m.photo_id for m in match_photos(index, [near, away], tolerance)]
    confident_engine = "sface" if sface.confident > between else "mobilefacenet"
    other = "mobilefacenet" if confident_engine == "sface" else "sface"
    assert kept[confident_engine] == [7] and kept[other] == []


def test_faces_like_a_confident_match_are_asked_never_shown():
    """two_tiers: a face beyond the borderline from the selfie but within the
    tolerance of a face already in "yours" is asked about; one near only that
    asked face is not (no chain), and an answered photo is never asked again."""
    from phopy.faces.search import two_tiers
    encodings = np.zeros((4, 128), dtype=np.float32)
    encodings[0, 0] = 0.40          # photo 1: 0.40 from the selfie, confident
    encodings[1, 0] = 0.40 + 0.45   # photo 2: 0.85 from the selfie, 0.45 from photo 1's face
    encodings[2, 0] = 0.85 + 0.45   # photo 3: 0.45 from photo 2's face only
    encodings[3, 1] = 0.55          # photo 4: in the borderline band of the selfie
    index = FaceIndex([11, 12, 13, 14], [1, 2, 3, 4], encodings, engine="dlib")
    selfie = np.zeros(128)
    yours, asked = two_tiers(index, [selfie], 0.5, 0.6, {}, 12)
    assert [p for p, *_ in yours] == [1]
    assert [(m.photo_id, m.face_id) for m in asked] == [(2, 12), (4, 14)]
    assert asked[0].distance == pytest.approx(0.45, abs=1e-4)
    _yours, asked = two_tiers(index, [selfie], 0.5, 0.6, {2: (12, "not_me")}, 12)
    assert [m.photo_id for m in asked] == [4]
    # confirmed, photo 1's face is a query itself: nothing new is shown from it alone
    yours, asked = two_tiers(index, [selfie, encodings[0]], 0.5, 0.6, {1: (11, "me")}, 1)
    assert {p for p, *_ in yours} == {1} and len(asked) == 1


def test_a_new_photos_faces_go_into_the_spare_rows_and_older_indexes_never_change():
    rng = np.random.default_rng(11)
    encodings = rng.normal(0, 0.1, size=(30, 128)).astype(np.float32)
    base = FaceIndex(np.arange(20), np.arange(20) // 2, encodings[:20], engine="dlib", spare=8)
    grown = base.extended(np.arange(20, 25), [50] * 5, encodings[20:25])
    assert np.shares_memory(grown.encodings, base.encodings)  # written in place, no copy
    assert len(base) == 20 and len(grown) == 25 and grown.nbytes == base.nbytes
    assert 22 in match_photos_ids(grown, encodings[22]) and 22 not in match_photos_ids(
        base, encodings[22])  # the older index reads its own 20 rows only
    # extending the older index again must not overwrite the rows ``grown`` reads
    other = base.extended(np.arange(100, 103), [60] * 3, encodings[25:28])
    assert not np.shares_memory(other.encodings, base.encodings)
    assert np.array_equal(grown.encodings[20:], encodings[20:25])
    assert np.array_equal(other.encodings[20:], encodings[25:28])
    # past the spare rows: new buffers an eighth (at least MIN_SPARE rows) larger
    bigger = grown.extended(np.arange(25, 30), [70] * 5, encodings[25:30])
    assert not np.shares_memory(bigger.encodings, grown.encodings)
    fresh = FaceIndex(np.arange(30), [*(np.arange(20) // 2), *[50] * 5, *[70] * 5],
                      encodings, engine="dlib")
    assert bigger.face_ids.tolist() == fresh.face_ids.tolist()
    assert bigger.photo_ids.tolist() == fresh.photo_ids.tolist()
    assert np.array_equal(bigger.encodings, fresh.encodings)
    assert np.allclose(bigger.sq_norms, fresh.sq_norms)


def match_photos_ids(index, query):
    return [m.face_id for m in match_photos(index, [query], 0.01)]


def test_rows_of_finds_the_same_rows_sorted_or_not():
    rng = np.random.default_rng(12)
    ids = np.sort(rng.choice(10_000, size=500, replace=False))
    encodings = rng.normal(size=(500, 128))
    ordered = FaceIndex(ids, ids, encodings, engine="dlib")
    shuffled_order = rng.permutation(500)
    shuffled = FaceIndex(ids[shuffled_order], ids[shuffled_order], encodings[shuffled_order],
                         engine="dlib")
    assert ordered.ids_sorted and not shuffled.ids_sorted
    wanted = [int(ids[3]), int(ids[499]), int(ids[250]), 10_001, -5, int(ids[3])]
    for index in (ordered, shuffled):
        rows = index.rows_of(wanted)
        assert rows.tolist() == np.flatnonzero(np.isin(index.face_ids, wanted)).tolist()
        assert sorted(index.face_ids[rows].tolist()) == sorted({int(ids[3]), int(ids[499]),
                                                                int(ids[250])})
    appended = ordered.extended([-1], [5], rng.normal(size=(1, 128)))  # an id out of order
    assert not appended.ids_sorted and appended.rows_of([-1]).tolist() == [500]


@pytest.mark.parametrize("engine,tolerance,prefilter", [
    ("dlib", 0.6, True), ("dlib", 0.6, False),   # a prefilter that keeps few faces
    ("mobilefacenet", 0.55, True),               # 512 random values: it keeps most
])
def test_many_queries_at_once_find_what_each_finds_alone(monkeypatch, engine, tolerance,
                                                         prefilter):
    from phopy.faces import search
    if prefilter:
        monkeypatch.setattr(search, "PREFILTER_MIN_FACES", 100)
    rng = np.random.default_rng(13)
    index = (random_index(rng, faces=3000, photos=700) if engine == "dlib"
             else unit_index(rng, faces=3000, photos=700))
    queries = index.encodings[:40] + rng.normal(0, 0.01, size=(40, index.size))  # > a block
    if engine != "dlib":
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = (np.linalg.norm(index.encodings[None].astype(np.float64) - queries[:, None], axis=2)
             if engine == "dlib" else 1.0 - queries @ index.encodings.T.astype(np.float64))
    together = index.within_many(queries, tolerance)
    assert len(together) == 40
    for query, expected, (rows, distances) in zip(queries, exact, together):
        assert set(rows.tolist()) == set(np.flatnonzero(expected <= tolerance).tolist())
        assert np.allclose(distances, expected[rows], atol=1e-4)
        alone_rows, alone_distances = index.within(query, tolerance)
        assert alone_rows.tolist() == rows.tolist()
