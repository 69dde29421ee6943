"""Reading bib numbers off an event's photos: the ``read_bibs`` job.

Text is found twice in each photo: in the torso under each face the engine found
(from the chin to a few face heights below it, scaled so the face is
``TORSO_FACE_PX`` tall: a bib's digits are about half a face, so small bibs are
not shrunk and large ones not detected at needless size), and in the rest of the
photo (runners whose face is hidden or was not found): a first look at
``LOOK_MAX_SIDE`` says where there may be text, and only there is text found at
``WHOLE_MAX_SIDE``'s scale. Each place found is then read once, from the decoded
photo itself (full resolution). Photos are read on the face pool's processes
(``read_task``), one photo each. Tokens that fit the event's bib pattern are
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

import numpy as np

from phopy.bibs import checks
from phopy.bibs.ocr import OcrUnavailable, get_reader
from phopy.bibs.places import (TORSO_FACE_PX, candidates, centre, crop_quad, find_text,
                               inside, look_shrink, overlap, text_elsewhere, torso_region)
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

MIN_TEXT_PX = 12          # text lower than this (photo pixels) is not read
MIN_CONFIDENCE = 0.95     # a line read with less confidence is not searchable (blurred
#                           bibs misread below it; right readings of >= 40 px are above)
REVIEW_FLOOR = 0.6        # ... from this up to MIN_CONFIDENCE it waits in the review queue
LONE_CONFIDENCE = 0.99    # ... a lone character (a pole, a zero) needs this much
DECODE_MAX_SIDE = 4000    # photos are decoded at most this large
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
        cx, cy = centre(token["box"])
        larger = [n for n in numbers if h(n) * SMALL_RATIO > h(token)
                  and abs(centre(n["box"])[0] - cx) < (n["box"][2] - n["box"][0]) / 2
                  + NEAR * h(n) and abs(centre(n["box"])[1] - cy) < NEAR * h(n)]
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
        middle = centre(token["box"])
        height = token.get("height") or token["box"][3] - token["box"][1]
        holders, small_print = [], False
        for face_id, r in regions.items():
            if not inside(middle, r):
                continue
            off = abs((r[0] + r[2]) / 2 - middle[0])
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
                off = math.hypot(off, middle[1] - float(face["box_bottom"])) / face_h
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
    the face is ``TORSO_FACE_PX`` tall) and where the first look at the rest of the photo
    saw some (``places.text_elsewhere``), and each place found is read once, from the
    decoded photo itself."""
    scale = image.width / float(full_size[0])
    regions = {}
    for face in faces:
        region = torso_region(face, full_size)
        if region is not None:
            regions[face["id"]] = region
    array = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    shrink = look_shrink(array)
    torso, covered = [], []
    for face in faces:
        if face["id"] in regions:
            face_h = (float(face["box_bottom"]) - float(face["box_top"])) * scale
            region = tuple(v * scale for v in regions[face["id"]])
            torso += find_text(reader, array, region, TORSO_FACE_PX / max(face_h, 1.0))
            covered.append(region)
    whole = text_elsewhere(reader, array, covered, shrink)
    boxes = candidates(torso, whole, MIN_TEXT_PX * scale)
    texts = reader.recognize([crop_quad(array, b["quad"]) for b in boxes])
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
    settings = event_settings(conn, config, event_id)
    if event is None or not settings["running"]:
        return {"photos": 0, "readings": 0, "skipped": "not a running event"}
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
