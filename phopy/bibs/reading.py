"""Reading bib numbers off an event's photos: the ``read_bibs`` job.

Text is found twice in each photo: in the torso under each face the engine found
(from the chin to a few face heights below it, scaled so the face is
``TORSO_FACE_PX`` tall: a bib's digits are about half a face, so small bibs are
not shrunk and large ones not detected at needless size), and in the whole photo
at reduced size (runners whose face is hidden or was not found). Each place found
is then read once, from the decoded photo itself (full resolution), all of a
photo's text lines in one batch. Tokens that fit the event's bib pattern are
kept; digits much smaller than a number they sit on (timing chips, gear-check
tags) are dropped, and so are digits too small for the face right above them (a
chip strip whose number was not read). Each reading is stored with its photo,
box, confidence and the face it hangs under (the nearest chin whose face's height
fits the digits'; none when no face fits: another runner's bib), and
``phopy.bibs.checks`` then applies the start list and the photographer's fixes.

A photo's readings are replaced in one transaction with its reading checkpoint
(``bib_scans``), so reading an event again is idempotent and an interrupted
job resumes where it stopped. The checkpoint goes with the photo's indexing
checkpoint: a re-indexed photo is read again.
"""
import logging
import math
import time

import cv2
import numpy as np

from phopy.bibs import checks
from phopy.bibs.ocr import OcrUnavailable, detect_size, get_reader
from phopy.bibs.settings import event_settings, match_bib
from phopy.data import bibs as bibs_db
from phopy.data import events as events_db
from phopy.errors import PhopyError
from phopy.faces.images import decode_image
from phopy.jobs.queue import enqueue
from phopy.jobs.registry import job
from phopy.services.bib_hooks import bibs_read
from phopy.services.indexing import after_indexing

log = logging.getLogger(__name__)

LOOK_MAX_SIDE = 350       # the first look at the whole photo is at this size: text
LOOK_THRESHOLD = 0.1      # ... where the detector's map is over this is looked at again
LOOK_CELL = 8             # ... in cells of this many map pixels
LOOK_MARGIN = 24          # ... and this many pixels around them (at the scale below)
WHOLE_MAX_SIDE = 800      # ... at the scale of a copy this large
TORSO_FACE_PX = 64        # ... a torso crop, scaled down so its face is this tall
MIN_TEXT_PX = 12          # text lower than this (photo pixels) is not read
MIN_CONFIDENCE = 0.95     # a line read with less confidence is not searchable (blurred
#                           bibs misread below it; right readings of >= 40 px are above)
REVIEW_FLOOR = 0.6        # ... from this up to MIN_CONFIDENCE it waits in the review queue
LONE_CONFIDENCE = 0.99    # ... a lone character (a pole, a zero) needs this much
MAX_ASPECT = 10           # nor a line longer than this many times its height
REC_HEIGHT = 48           # the recognizer's input height
DECODE_MAX_SIDE = 4000    # photos are decoded at most this large
TORSO_BELOW = (0.0, 4.5)  # the torso: from the chin to 4.5 face heights below it
TORSO_WIDTH = 3.5         # ... and 3.5 face widths wide, centred under the face
SMALL_RATIO = 0.55        # digits under this share of the height of a number they are
NEAR = 1.5                # ... this many of its heights beside or below go
FACE_RATIO = (0.3, 2.0)   # a bib's line is this many times as tall as its runner's face
MAX_CHIN = 3.0            # ... and at most this many face heights from the chin
BATCH = 32


def enqueue_reading(conn, event_id):
    """Queue reading of the event's photos not read yet; return the task."""
    return enqueue(conn, "read_bibs", {"event_id": event_id}, event_id=event_id,
                   lock_key=f"read_bibs:{event_id}", reuse_pending=True,
                   total=bibs_db.count_to_read(conn, event_id))


def read_again(conn, event_id):
    """Read every photo of the event again (fixes stay and still win); return the task."""
    bibs_db.forget_reads(conn, event_id)
    return enqueue_reading(conn, event_id)


@after_indexing
def queue_after_indexing(conn, config, event_id):
    """When a running event's photos are indexed, read their bibs."""
    if event_settings(conn, config, event_id)["running"]:
        enqueue_reading(conn, event_id)


# -- geometry -----------------------------------------------------------------
def torso_region(face, size):
    """(l, t, r, b) under a face box (dict with box_* keys), inside the image; or None."""
    width, height = size
    top, right, bottom, left = (float(face[k]) for k in
                                ("box_top", "box_right", "box_bottom", "box_left"))
    fw, fh = right - left, bottom - top
    cx = (left + right) / 2
    region = (max(0.0, cx - fw * TORSO_WIDTH / 2), max(0.0, bottom + fh * TORSO_BELOW[0]),
              min(float(width), cx + fw * TORSO_WIDTH / 2),
              min(float(height), bottom + fh * TORSO_BELOW[1]))
    if region[2] - region[0] < 16 or region[3] - region[1] < 16:
        return None
    return region


def _inside(point, box):
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _centre(box):
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def overlap(a, b):
    """Intersection over the smaller box's area (1.0: one box inside the other)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


# -- one photo ----------------------------------------------------------------
def _detect(reader, array, region, scale):
    """Text boxes of one region of an RGB array detected at ``scale`` (at most 1), as
    {quad, height, aabb} in the array's pixels."""
    left, top, right, bottom = (int(round(v)) for v in region)
    crop = array[top:bottom, left:right]
    height, width = crop.shape[:2]
    scale = min(scale, 1.0)
    # straight to the size the detector runs at (one resize, not two)
    size = detect_size(max(1, int(width * scale)), max(1, int(height * scale)))
    if size != (width, height):
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC if scale < 1.0
                          else cv2.INTER_LINEAR)
    ratio = np.array((size[0] / float(max(1, width)), size[1] / float(max(1, height))),
                     np.float32)
    boxes = []
    for quad, _score in reader.detect(crop):
        quad = quad / ratio + np.array((left, top), np.float32)
        boxes.append({"quad": quad, "height": _quad_height(quad), "aabb": _aabb(quad)})
    return boxes


def _shrink(array):
    """The whole factor by which the first look shrinks a photo (1: not at all)."""
    return int(round(max(array.shape[:2]) / float(LOOK_MAX_SIDE)))


def _look(reader, array, covered, shrink):
    """Text boxes of the whole photo outside the torso regions (``covered``): a first
    look at ``LOOK_MAX_SIDE`` says where there may be text (large bibs of runners whose
    face was not found are plain at that size, small print is a faint trace on the
    detector's map), and only there is text found at ``WHOLE_MAX_SIDE``'s scale: a
    photo is mostly crowd, road and sky."""
    height, width = array.shape[:2]
    if shrink <= 1:
        return _detect(reader, array, (0, 0, width, height), 1.0)
    small = cv2.resize(array, None, fx=1.0 / shrink, fy=1.0 / shrink,
                       interpolation=cv2.INTER_AREA)
    _boxes, text = reader.detect(small, with_map=True)
    if text is None:
        return []
    rows, cols = text.shape[0] // LOOK_CELL, text.shape[1] // LOOK_CELL
    cells = text[:rows * LOOK_CELL, :cols * LOOK_CELL].reshape(
        rows, LOOK_CELL, cols, LOOK_CELL).max(axis=(1, 3)) > LOOK_THRESHOLD
    cell_w, cell_h = width / (text.shape[1] / LOOK_CELL), height / (text.shape[0] / LOOK_CELL)
    for left, top, right, bottom in covered:  # cells wholly inside a torso region
        c0, r0 = int(np.ceil(left / cell_w)), int(np.ceil(top / cell_h))
        c1, r1 = int(right // cell_w), int(bottom // cell_h)
        cells[r0:r1, c0:c1] = False
    if not cells.any():
        return []
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(
        cv2.dilate(cells.astype(np.uint8), np.ones((3, 3), np.uint8)), connectivity=8)
    scale = WHOLE_MAX_SIDE / float(max(height, width))
    margin = LOOK_MARGIN / scale  # text needs some context around it
    places = []
    for x, y, w, h, _area in stats[1:count]:
        places.append((max(0.0, x * cell_w - margin), max(0.0, y * cell_h - margin),
                       min(float(width), (x + w) * cell_w + margin),
                       min(float(height), (y + h) * cell_h + margin)))
    boxes = []
    for place in _merge_places(places):
        boxes += _detect(reader, array, place, scale)
    return boxes


def _merge_places(places):
    """Rectangles merged until none overlap."""
    places = list(places)
    merged = True
    while merged:
        merged = False
        for i in range(len(places)):
            for j in range(i + 1, len(places)):
                a, b = places[i], places[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    places[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]),
                                 max(a[3], b[3]))
                    del places[j]
                    merged = True
                    break
            if merged:
                break
    return places


def _quad_height(quad):
    return float(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))


def _quad_width(quad):
    return float(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))


def _aabb(quad):
    return (float(quad[:, 0].min()), float(quad[:, 1].min()),
            float(quad[:, 0].max()), float(quad[:, 1].max()))


def _crop_quad(array, quad):
    """The text line inside ``quad`` of an RGB array, straightened."""
    width = max(2, int(round(_quad_width(quad))))
    height = max(2, int(round(_quad_height(quad))))
    target = np.array([(0, 0), (width, 0), (width, height), (0, height)], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(array, matrix, (width, height), flags=cv2.INTER_AREA
                               if height > REC_HEIGHT else cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def _candidates(torso_boxes, whole_boxes, min_height):
    """The text boxes worth reading: each place once (a torso crop's box before the
    whole photo's), tall enough, not a long line."""
    boxes = []
    for box in list(torso_boxes) + list(whole_boxes):
        if not any(overlap(box["aabb"], k["aabb"]) > 0.5 for k in boxes):
            boxes.append(box)
    return [b for b in boxes if b["height"] >= min_height
            and _quad_width(b["quad"]) <= MAX_ASPECT * b["height"]]


def _tokens(texts, boxes, pattern, scale):
    """Bib tokens of recognized text lines, boxes in full-size photo pixels; and the
    lines that are mostly digits (numbers, bibs or not: what small digits are judged by)."""
    tokens, numbers = [], []
    for (text, score), box in zip(texts, boxes):
        if score < REVIEW_FLOOR:
            continue
        full = tuple(v / scale for v in box["aabb"])
        height = box["height"] / scale
        digits = sum(c.isdigit() for c in text)
        if score >= MIN_CONFIDENCE and digits and digits * 2 >= len(text.replace(" ", "")):
            numbers.append({"text_read": text, "confidence": score, "box": full,
                            "height": height})
        parts = [text] + (text.split() if len(text.split()) > 1 else [])
        for part in parts:
            bib = match_bib(pattern, part)
            if bib is None or (len(bib) == 1 and score < LONE_CONFIDENCE):
                continue
            tokens.append({"bib": bib, "text_read": text, "confidence": score, "box": full,
                           "height": height, "held": score < MIN_CONFIDENCE})
            break
    return tokens, numbers


def _merge(tokens):
    """One token per bib and place: the more confident of overlapping equal readings; a
    reading held for review is dropped where a more confident one of any number is."""
    kept = []
    for token in sorted(tokens, key=lambda t: -t["confidence"]):
        if any((k["bib"] == token["bib"] or token["held"]) and
               overlap(k["box"], token["box"]) > 0.5 for k in kept):
            continue
        kept.append(token)
    return kept


def _drop_small(tokens, numbers=None):
    """Drop digits much smaller than a number they sit on or beside (a timing chip's
    strip, a gear-check tag): under ``SMALL_RATIO`` of its height, centred within
    ``NEAR`` of its heights beside or below it. ``numbers``: the lines judged by
    (default: the tokens themselves)."""
    numbers = tokens if numbers is None else numbers

    def h(item):  # the text line's own height (not its upright box's)
        return item.get("height") or item["box"][3] - item["box"][1]
    kept = []
    for token in tokens:
        cx, cy = _centre(token["box"])
        larger = [n for n in numbers if h(n) * SMALL_RATIO > h(token)
                  and abs(_centre(n["box"])[0] - cx) < (n["box"][2] - n["box"][0]) / 2
                  + NEAR * h(n) and abs(_centre(n["box"])[1] - cy) < NEAR * h(n)]
        if not larger:
            kept.append(token)
    return kept


def _assign_faces(tokens, regions, faces=None):
    """Each token's face: the one whose torso holds its centre (nearest centre line) and,
    when ``faces`` ({id: face}) are given, whose height fits the token's (``FACE_RATIO``),
    the nearest chin in face heights.
    A token too small for the face it sits right under is that runner's small print (a
    chip strip whose number was not read) and goes; one too small or too large for every
    torso holding it is another runner's, whose face was not found: no face."""
    kept = []
    for token in tokens:
        centre = _centre(token["box"])
        height = token.get("height") or token["box"][3] - token["box"][1]
        holders, small_print = [], False
        for face_id, r in regions.items():
            if not _inside(centre, r):
                continue
            off = abs((r[0] + r[2]) / 2 - centre[0])
            face = (faces or {}).get(face_id)
            if face is not None:
                face_h = max(1.0, float(face["box_bottom"]) - float(face["box_top"]))
                face_w = float(face["box_right"]) - float(face["box_left"])
                if height < FACE_RATIO[0] * face_h:
                    small_print = small_print or off < face_w
                    continue
                if height > FACE_RATIO[1] * face_h:
                    continue
                # the nearest chin, in its face's heights: a bib hangs under its own face
                off = math.hypot(off, centre[1] - float(face["box_bottom"])) / face_h
                if off > MAX_CHIN:
                    continue
            holders.append((off, face_id))
        if not holders and small_print:
            continue
        token["face_id"] = min(holders)[1] if holders else None
        kept.append(token)
    return kept


def read_image(reader, image, full_size, faces, pattern):
    """Bib tokens of one decoded photo: [{bib, text_read, confidence, box, face_id}].

    ``image`` may be smaller than ``full_size`` (the photo's oriented size, in which
    face boxes and the returned boxes are). Text is found in each torso crop (scaled so
    the face is ``TORSO_FACE_PX`` tall) and in the whole photo (at ``WHOLE_MAX_SIDE``),
    and each place found is read once, from the decoded photo itself."""
    scale = image.width / float(full_size[0])
    regions = {}
    for face in faces:
        region = torso_region(face, full_size)
        if region is not None:
            regions[face["id"]] = region
    array = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    shrink = _shrink(array)
    torso, covered = [], []
    for face in faces:
        if face["id"] in regions:
            face_h = (float(face["box_bottom"]) - float(face["box_top"])) * scale
            region = tuple(v * scale for v in regions[face["id"]])
            torso += _detect(reader, array, region, TORSO_FACE_PX / max(face_h, 1.0))
            covered.append(region)
    whole = _look(reader, array, covered, shrink)
    boxes = _candidates(torso, whole, MIN_TEXT_PX * scale)
    texts = reader.recognize([_crop_quad(array, b["quad"]) for b in boxes])
    tokens, numbers = _tokens(texts, boxes, pattern, scale)
    return _assign_faces(_drop_small(_merge(tokens), numbers), regions,
                         {face["id"]: face for face in faces})


def read_task(_engine, source, faces, pattern, threads, max_pixels):
    """Read one photo's bibs in a face-pool process (``FacePool.analyze``'s task):
    (tokens as :func:`read_image`, None), or (None, why) when the photo cannot be
    decoded. ``source``: the photo's bytes or path; ``faces``: its face boxes (dicts).
    A fault of this machine (OCR models that do not load) raises."""
    reader = get_reader(threads)  # OcrUnavailable: the job fails and says so
    try:
        image, full_size = decode_image(source, DECODE_MAX_SIDE, max_pixels)
        return read_image(reader, image, full_size, faces, pattern), None
    except OcrUnavailable:
        raise
    except PhopyError as exc:
        return None, exc.message


@job("read_bibs", max_attempts=3, needs_pool=True)
def read_bibs(ctx, event_id):
    """Job ``read_bibs``: read every photo of the event not read yet.

    Runs in the heavy lane beside indexing, on the face pool's processes (one photo
    each, as indexing: OCR on one thread a process scales with the cores where one
    reader's threads do not). Returns ``{photos, readings}``."""
    conn, config = ctx.conn, ctx.config
    event = events_db.get(conn, event_id)
    if event is None or not event_settings(conn, config, event_id)["running"]:
        return {"photos": 0, "readings": 0, "skipped": "not a running event"}
    settings = event_settings(conn, config, event_id)
    # the face pool's processes read one photo each, one OCR thread apiece; in one
    # process (the embedded runner) the reader has BIB_OCR_THREADS
    threads = (int(config.get("BIB_OCR_THREADS") or 2)
               if getattr(ctx.pool, "processes", 1) == 1 else 1)
    extra = (settings["pattern"], threads, int(config.get("MAX_PHOTO_PIXELS") or 120_000_000))
    rules = checks.Rules.for_event(conn, config, event_id)
    done, found = ctx.task["progress"] or 0, 0
    started = time.monotonic()
    while True:
        batch = bibs_db.photos_to_read(conn, event_id, BATCH)
        if not batch:
            break
        total = done + bibs_db.count_to_read(conn, event_id)
        items = [(photo, photo["storage_key"],
                  ([dict(f) for f in bibs_db.photo_faces(conn, photo["id"])],) + extra)
                 for photo in batch]
        for photo, tokens, error in ctx.pool.analyze(items, storage=ctx.storage,
                                                     task=read_task):
            if tokens is None:
                log.warning("bibs of photo %s not read: %s", photo["id"], error)
                bibs_db.record_read(conn, photo, [], "error", str(error)[:500])
            else:
                readings = rules.apply(tokens, bibs_db.photo_fixes(conn, photo["id"]))
                if bibs_db.record_read(conn, photo, readings):
                    found += len(readings)
            done += 1
            ctx.progress(done, total, photo["filename"])
    checks.flag_two_faces(conn, event_id, ctx.engine_settings)
    bibs_read(conn, config, ctx.search, event_id)  # channels tell who was found (LINE)
    log.info("read bibs of event %s: %d photos, %d readings in %.1f s", event_id, done, found,
             time.monotonic() - started)
    return {"photos": done, "readings": found}
