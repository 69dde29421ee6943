"""Match quality against an event's ground truth.

The inputs are plain: for every photo the faces a pipeline found (box and
128-d encoding), for every selfie its encoding (or None), and a matcher
``match(index, selfie_encodings, tolerance) -> photo files``. The same code
scores Phopy and the baseline.
"""
from dataclasses import dataclass

import numpy as np

from bench.generate import SIZE_BUCKETS, size_bucket


@dataclass
class IndexedEvent:
    """An event's faces as one pipeline saw them."""

    photo_files: list          # photo file per face row
    boxes: list                # (top, right, bottom, left) per face row
    encodings: np.ndarray      # (faces, 128) float32

    @classmethod
    def from_analyses(cls, analyses):
        """Build from {photo file: [(box, encoding), ...]}."""
        files, boxes, encodings = [], [], []
        for photo, faces in analyses.items():
            for box, encoding in faces:
                files.append(photo)
                boxes.append(tuple(int(v) for v in box))
                encodings.append(np.asarray(encoding, dtype=np.float32))
        matrix = np.stack(encodings) if encodings else np.zeros((0, 128), np.float32)
        return cls(files, boxes, matrix)


def match_detections(truth_faces, boxes):
    """Pair ground-truth faces with detected boxes; return {truth index: box index}.

    A detection counts for a true face when its centre lies inside the true box
    and its width is within a factor of two of the true width.
    """
    pairs, used = {}, set()
    for ti, face in enumerate(truth_faces):
        top, right, bottom, left = face["box"]
        width = right - left
        best, best_dist = None, None
        for bi, (bt, br, bb, bl) in enumerate(boxes):
            if bi in used:
                continue
            cy, cx = (bt + bb) / 2, (bl + br) / 2
            bw = br - bl
            if not (top <= cy <= bottom and left <= cx <= right and 0.5 <= bw / width <= 2):
                continue
            dist = abs(cy - (top + bottom) / 2) + abs(cx - (left + right) / 2)
            if best is None or dist < best_dist:
                best, best_dist = bi, dist
        if best is not None:
            used.add(best)
            pairs[ti] = best
    return pairs


def score_detection(truth, analyses):
    """Faces found: true faces matched, false detections, recall by size bucket."""
    found = total = false = 0
    buckets = {}
    for photo in truth["photos"]:
        boxes = [box for box, _ in analyses.get(photo["file"], [])]
        pairs = match_detections(photo["faces"], boxes)
        found += len(pairs)
        total += len(photo["faces"])
        false += len(boxes) - len(pairs)
        for ti, face in enumerate(photo["faces"]):
            b = buckets.setdefault(size_bucket(face["face_px"]), [0, 0])
            b[0] += ti in pairs
            b[1] += 1
    return {"true_faces": total, "true_faces_found": found, "false_detections": false,
            "face_recall": found / total if total else 0.0,
            "face_recall_by_size": {k: v[0] / v[1] for k, v in _ordered(buckets)}}


def _ordered(buckets):
    order = [size_bucket(low) for low, _ in SIZE_BUCKETS]
    return [(k, buckets[k]) for k in order if k in buckets]


GROUPS = ("asian", "rest")


def queries(truth, selfies, group=None):
    """Yield (person, selfie files, relevant photo set, is_impostor).

    ``group`` "asian" or "rest": only the queries of people in ``truth["asian"]``
    (East and Southeast Asian) or of the others; None: every query.
    """
    asian = set(truth.get("asian", ()))

    def wanted(name):
        return group is None or (name in asian) == (group == "asian")

    for person in truth["attendees"]:
        if wanted(person["person"]):
            yield person["person"], person["selfies"][:selfies], set(person["photos"]), False
    for person in truth["impostors"]:
        if wanted(person["person"]):
            yield person["person"], person["selfies"][:selfies], set(), True


def score_groups(truth, results, selfies):
    """``score_queries`` for the Asian people of the event and for the rest, apart."""
    return {group: score_queries(truth, results, selfies, group) for group in GROUPS}


def score_queries(truth, results, selfies, group=None):
    """Precision/recall per query, micro and macro, impostor false-match rate.

    ``results`` maps person -> list of returned photo files. A query that
    returns nothing has precision 1 (it claimed nothing wrong) in macro means.
    ``group``: score only that group's queries (see ``queries``).
    """
    tp = fp = fn = 0
    precisions, recalls = [], []
    impostor_hits = impostors = 0
    per_face = {}
    photo_sizes = {(p["file"], f["person"]): f["face_px"]
                   for p in truth["photos"] for f in p["faces"]}
    for person, _, relevant, impostor in queries(truth, selfies, group):
        got = set(results.get(person, ()))
        if impostor:
            impostors += 1
            impostor_hits += bool(got)
            fp += len(got)
            continue
        hit = len(got & relevant)
        tp += hit
        fp += len(got - relevant)
        fn += len(relevant - got)
        precisions.append(hit / len(got) if got else 1.0)
        recalls.append(hit / len(relevant) if relevant else 1.0)
        for photo in relevant:
            b = per_face.setdefault(size_bucket(photo_sizes[(photo, person)]), [0, 0])
            b[0] += photo in got
            b[1] += 1
    return {
        "queries": len(precisions), "impostor_queries": impostors,
        "micro_precision": tp / (tp + fp) if tp + fp else 1.0,
        "micro_recall": tp / (tp + fn) if tp + fn else 1.0,
        "macro_precision": float(np.mean(precisions)) if precisions else 1.0,
        "macro_recall": float(np.mean(recalls)) if recalls else 1.0,
        "impostor_false_match_rate": impostor_hits / impostors if impostors else 0.0,
        "recall_by_size": {k: v[0] / v[1] for k, v in _ordered(per_face)},
        "true_positives": tp, "false_positives": fp, "false_negatives": fn,
    }


def run_queries(truth, selfie_encodings, match, tolerance, selfies):
    """Run every query through ``match``; return person -> returned photo files.

    ``selfie_encodings`` maps selfie file -> encoding or None (no face found).
    """
    results = {}
    for person, files, _, _ in queries(truth, selfies):
        encs = [selfie_encodings[f] for f in files if selfie_encodings.get(f) is not None]
        results[person] = match(encs, tolerance) if encs else []
    return results


SWEPT = ("micro_precision", "micro_recall", "impostor_false_match_rate")


def sweep(truth, selfie_encodings, match, tolerances, selfies):
    """Precision, recall and impostor rate at each tolerance: overall, and for the
    Asian people and the rest apart (``row["asian"]``, ``row["rest"]``) with the
    counts behind them (queries, impostors matched)."""
    rows = []
    for tol in tolerances:
        results = run_queries(truth, selfie_encodings, match, tol, selfies)
        s = score_queries(truth, results, selfies)
        row = {"tolerance": round(float(tol), 3), **{k: s[k] for k in SWEPT}}
        for group, g in score_groups(truth, results, selfies).items():
            row[group] = {**{k: g[k] for k in SWEPT}, "queries": g["queries"],
                          "impostor_queries": g["impostor_queries"],
                          "false_positives": g["false_positives"]}
        rows.append(row)
    return rows


def restrict_truth(truth, photo_files):
    """The ground truth cut down to some of its photos (for the baseline subset)."""
    keep = set(photo_files)
    out = dict(truth)
    out["photos"] = [p for p in truth["photos"] if p["file"] in keep]
    out["attendees"] = [dict(a, photos=[f for f in a["photos"] if f in keep])
                        for a in truth["attendees"]]
    out["attendees"] = [a for a in out["attendees"] if a["photos"]]
    return out
