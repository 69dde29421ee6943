"""Which readings count: the start list, confidence, the photographer's fixes, and
one bib read on two different people.

- A reading the OCR was not sure of (``held``: under ``reading.MIN_CONFIDENCE``) is not
  searchable and waits in the review queue, where one click makes it count.
- No start list: every other reading counts; one under ``BIB_REVIEW_CONFIDENCE`` is
  searchable but goes to the review queue too.
- A start list: a reading on it counts; one that is not is kept only when it is
  one digit away from an entry and read with high confidence (``HIGH_CONFIDENCE``),
  and then waits in the review queue (not searchable) with that entry suggested;
  any other is dropped.
- A fix by the photographer (same photo, same place) wins over every later reading.
- One bib read under two faces that the face index says are different people:
  both readings go to the review queue (still searchable).
"""
import logging
from dataclasses import dataclass, field

import numpy as np

from phopy.data import bibs as bibs_db
from phopy.faces import EngineSettings, FaceIndex
from phopy.faces.engine import engine_key
from phopy.faces.search import decode_encoding

log = logging.getLogger(__name__)

HIGH_CONFIDENCE = 0.9
FIX_OVERLAP = 0.5


def one_digit_away(a, b):
    """True when ``a`` becomes ``b`` by changing, adding or removing one character."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _overlap(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


@dataclass
class Rules:
    """What one event's readings must pass."""

    start_list: set = field(default_factory=set)
    review_below: float = 0.8

    @classmethod
    def for_event(cls, conn, config, event_id):
        return cls(bibs_db.start_list_bibs(conn, event_id),
                   float(config.get("BIB_REVIEW_CONFIDENCE") or 0.8))

    def judge(self, token):
        """The reading to store for an OCR token (a dict), or None to drop it."""
        reading = {**token, "searchable": 1, "review": None, "suggestion": None}
        if self.start_list and token["bib"] not in self.start_list:
            near = sorted(b for b in self.start_list if one_digit_away(token["bib"], b))
            if token["confidence"] < HIGH_CONFIDENCE or not near:
                return None
            reading.update(searchable=0, review="not_on_start_list",
                           suggestion=near[0] if len(near) == 1 else None)
        elif token.get("held"):
            reading.update(searchable=0, review="low_confidence")
        elif token["confidence"] < self.review_below:
            reading["review"] = "low_confidence"
        return reading

    def apply(self, tokens, fixes=()):
        """Readings to store for a photo's tokens, with its fixes applied."""
        readings = []
        for token in tokens:
            fix = next((f for f in fixes if _overlap(token["box"], _fix_box(f)) >= FIX_OVERLAP),
                       None)
            reading = self.judge(token) if fix is None else _fixed(token, fix)
            if reading is not None:
                left, top, right, bottom = reading.pop("box")
                reading.update(box_left=left, box_top=top, box_right=right, box_bottom=bottom)
                readings.append(reading)
        return readings


def _fix_box(fix):
    return (fix["box_left"], fix["box_top"], fix["box_right"], fix["box_bottom"])


def _fixed(token, fix):
    """A token the photographer already fixed: their number (or "not a bib"), their box."""
    return {**token, "bib": fix["bib"] or token["bib"], "box": _fix_box(fix),
            "searchable": int(fix["bib"] is not None), "review": None, "suggestion": None,
            "fixed": 1}


def flag_two_faces(conn, event_id, settings=None):
    """Put in the review queue every bib read under faces of two different people;
    return how many bibs were flagged."""
    settings = settings or EngineSettings()
    rows = bibs_db.faces_per_bib(conn, event_id)
    by_bib = {}
    for row in rows:
        by_bib.setdefault(row["bib"], []).append(row)
    flagged = 0
    for bib, group in by_bib.items():
        faces = {r["face_id"] for r in group}
        if len(faces) < 2:
            continue
        same_photo = len({r["photo_id"] for r in group}) < len(group)
        if same_photo or not _one_person(conn, sorted(faces), settings):
            bibs_db.mark_review(conn, [r["id"] for r in group], "two_faces")
            flagged += 1
    if flagged:
        log.info("event %s: %d bibs read on two different people", event_id, flagged)
    return flagged


def _one_person(conn, face_ids, settings):
    """Whether every face is within the engine's tolerance of the first one."""
    engine, model = engine_key(settings)
    rows = bibs_db.face_encodings(conn, face_ids, engine, model)
    if len(rows) < 2:
        return True
    size = settings.profile.size
    index = FaceIndex([r[0] for r in rows], [r[0] for r in rows],
                      np.stack([decode_encoding(r[1], size) for r in rows]), engine=settings.profile)
    found, _distances = index.within(index.encodings[0], settings.tolerance)
    return len(found) == len(rows)
