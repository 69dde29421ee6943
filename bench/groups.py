"""The named group photos: is each person found where they are, and only there?

Index: every photo in ``group_photos/``. Queries: the face_recognition
examples' training photos of Obama, Biden, Kit Harington and Rose Leslie.
"""
from pathlib import Path

NAMED = {
    "obama": {"fr_two_people.jpg", "fr_obama_and_biden.jpg"},
    "biden": {"fr_two_people.jpg", "fr_obama_and_biden.jpg"},
    "kit_harington": {"fr_kit_with_rose.jpg"},
    "rose_leslie": {"fr_kit_with_rose.jpg"},
}


def group_photo_paths(faces_dir):
    """All group photos (the named ones plus the rest as distractors)."""
    return sorted(str(p) for p in (Path(faces_dir) / "group_photos").glob("*.jpg"))


def selfie_paths(faces_dir, person):
    """The training photos of ``person`` in face_recognition's knn example."""
    folder = Path(faces_dir) / "face_recognition_examples" / "knn_examples" / "train" / person
    return sorted(str(p) for p in folder.iterdir())


def score_named(results):
    """``results``: person -> returned photo paths. Per person hits and misses."""
    rows = {}
    for person, expected in NAMED.items():
        got = {Path(p).name for p in results.get(person, ())}
        rows[person] = {"expected": sorted(expected), "found": sorted(got & expected),
                        "wrong": sorted(got - expected), "ok": got == expected}
    return rows
