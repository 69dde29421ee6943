"""Reading bib numbers off an event's photos: the ``read_bibs`` job.

Each photo is read twice: the torso under each face the engine found (a few
face heights below the chin, at full resolution, so small bibs stay legible),
and the whole photo at reduced size (runners whose face is hidden or turned).
Tokens that fit the event's bib pattern are kept; digits much smaller than the
largest number near them (timing chips, gear-check tags) are dropped; readings
of one bib from both passes are merged. Each reading is stored with its photo,
box, confidence and the face it sits under (``phopy.bibs.checks`` then applies
the start list and the photographer's fixes).

A photo's readings are replaced in one transaction with its reading checkpoint
(``bib_scans``), so reading an event again is idempotent and an interrupted
job resumes where it stopped. The checkpoint goes with the photo's indexing
checkpoint: a re-indexed photo is read again.
"""
import logging
import time

from phopy.bibs import checks
from phopy.bibs.ocr import get_reader
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

WHOLE_MAX_SIDE = 1280     # the whole-photo pass reads a copy this large
TORSO_MAX_SIDE = 960      # a torso crop larger than this is scaled down
DECODE_MAX_SIDE = 4000    # photos are decoded at most this large
TORSO_BELOW = (0.3, 4.5)  # the torso: from 0.3 to 4.5 face heights below the chin
TORSO_WIDTH = 3.5         # ... and 3.5 face widths wide, centred under the face
SMALL_RATIO = 0.55        # digits under this share of the largest number near them go
BATCH = 16


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
def _ocr(reader, image, region, max_side, pattern, scale):
    """Bib tokens of one region of ``image``, in full-size photo pixels."""
    left, top, right, bottom = (int(round(v)) for v in region)
    crop = image.crop((left, top, right, bottom))
    shrink = min(1.0, max_side / max(crop.size))
    if shrink < 1.0:
        crop = crop.resize((max(1, int(crop.width * shrink)), max(1, int(crop.height * shrink))))
    tokens = []
    for text, score, box in reader.read(crop):
        parts = [text] + (text.split() if len(text.split()) > 1 else [])
        for part in parts:
            bib = match_bib(pattern, part)
            if bib is None:
                continue
            full = tuple((v / shrink + off) / scale for v, off in
                         zip(box, (left, top, left, top)))
            tokens.append({"bib": bib, "text_read": text, "confidence": score, "box": full})
            break
    return tokens


def _merge(tokens):
    """One token per bib and place: the more confident of overlapping equal readings."""
    kept = []
    for token in sorted(tokens, key=lambda t: -t["confidence"]):
        if any(k["bib"] == token["bib"] and overlap(k["box"], token["box"]) > 0.5 for k in kept):
            continue
        kept.append(token)
    return kept


def _drop_small(tokens):
    """Drop digits much smaller than the largest number near them (chips, tags)."""
    kept = []
    for token in tokens:
        h = token["box"][3] - token["box"][1]
        cx, cy = _centre(token["box"])
        larger = [t for t in tokens if (t["box"][3] - t["box"][1]) * SMALL_RATIO > h
                  and abs(_centre(t["box"])[0] - cx) < 4 * (t["box"][3] - t["box"][1])
                  and abs(_centre(t["box"])[1] - cy) < 4 * (t["box"][3] - t["box"][1])]
        if not larger:
            kept.append(token)
    return kept


def _assign_faces(tokens, regions):
    """Each token's face: the one whose torso holds its centre (nearest centre line)."""
    for token in tokens:
        centre = _centre(token["box"])
        holders = [(abs((r[0] + r[2]) / 2 - centre[0]), face_id)
                   for face_id, r in regions.items() if _inside(centre, r)]
        token["face_id"] = min(holders)[1] if holders else None
    return tokens


def read_image(reader, image, full_size, faces, pattern):
    """Bib tokens of one decoded photo: [{bib, text_read, confidence, box, face_id}].

    ``image`` may be smaller than ``full_size`` (the photo's oriented size, in which
    face boxes and the returned boxes are)."""
    scale = image.width / float(full_size[0])
    regions = {}
    for face in faces:
        region = torso_region(face, full_size)
        if region is not None:
            regions[face["id"]] = region
    tokens = _ocr(reader, image, (0, 0, image.width, image.height), WHOLE_MAX_SIDE, pattern,
                  scale)
    for region in regions.values():
        tokens += _ocr(reader, image, tuple(v * scale for v in region), TORSO_MAX_SIDE,
                       pattern, scale)
    return _assign_faces(_drop_small(_merge(tokens)), regions)


def read_photo(conn, storage, reader, photo, pattern, max_pixels):
    """Decode one stored photo and read its bibs (tokens as :func:`read_image`)."""
    with storage.open(photo["storage_key"]) as fh:
        image, full_size = decode_image(fh.read(), DECODE_MAX_SIDE, max_pixels)
    return read_image(reader, image, full_size, bibs_db.photo_faces(conn, photo["id"]), pattern)


@job("read_bibs", max_attempts=3, needs_pool=True)
def read_bibs(ctx, event_id):
    """Job ``read_bibs``: read every photo of the event not read yet.

    Runs in the heavy lane beside indexing (it is CPU work, though it needs no face
    pool). Returns ``{photos, readings}``."""
    conn, config = ctx.conn, ctx.config
    event = events_db.get(conn, event_id)
    if event is None or not event_settings(conn, config, event_id)["running"]:
        return {"photos": 0, "readings": 0, "skipped": "not a running event"}
    settings = event_settings(conn, config, event_id)
    reader = get_reader(int(config.get("BIB_OCR_THREADS") or 2))
    rules = checks.Rules.for_event(conn, config, event_id)
    done, found = ctx.task["progress"] or 0, 0
    started = time.monotonic()
    while True:
        batch = bibs_db.photos_to_read(conn, event_id, BATCH)
        if not batch:
            break
        total = done + bibs_db.count_to_read(conn, event_id)
        for photo in batch:
            try:
                tokens = read_photo(conn, ctx.storage, reader, photo, settings["pattern"],
                                    int(config.get("MAX_PHOTO_PIXELS") or 120_000_000))
            except PhopyError as exc:
                log.warning("bibs of photo %s not read: %s", photo["id"], exc)
                bibs_db.record_read(conn, photo, [], "error", str(exc)[:500])
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
