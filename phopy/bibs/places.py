"""Where a photo's text is: the torso under each face, and what a first look at the
rest of the photo says may be text; text boxes found there, and crops of them.

Detection runs at the scale each place needs: a torso crop is scaled so its face is
``TORSO_FACE_PX`` tall (a bib's digits are about half a face: small bibs are not
shrunk, large ones not detected at needless size); the rest of the photo is looked
at once at about ``LOOK_MAX_SIDE`` and text is found at ``WHOLE_MAX_SIDE``'s scale only
where that look saw some.
"""
import cv2
import numpy as np

from phopy.bibs.ocr import detect_size

TORSO_BELOW = (0.0, 4.5)  # the torso: from the chin to 4.5 face heights below it
TORSO_WIDTH = 3.5         # ... and 3.5 face widths wide, centred under the face
TORSO_FACE_PX = 64        # ... found in a crop scaled so its face is this tall
LOOK_MAX_SIDE = 350       # the first look at the whole photo is at about this size: text
LOOK_THRESHOLD = 0.1      # ... where the detector's map is over this is looked at again
LOOK_CELL = 8             # ... in cells of this many map pixels
LOOK_MARGIN = 24          # ... and this many pixels around them (at the scale below)
WHOLE_MAX_SIDE = 800      # ... at the scale of a copy this large
MAX_ASPECT = 10           # a text line longer than this many times its height is not read
REC_HEIGHT = 48           # the recognizer's input height


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


def inside(point, box):
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def centre(box):
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def overlap(a, b):
    """Intersection over the smaller box's area (1.0: one box inside the other)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


# -- text boxes ----------------------------------------------------------------
def find_text(reader, array, region, scale):
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


def look_shrink(array):
    """The whole factor by which the first look shrinks a photo (1: not at all)."""
    return int(round(max(array.shape[:2]) / float(LOOK_MAX_SIDE)))


def text_elsewhere(reader, array, covered, shrink):
    """Text boxes of the whole photo outside the torso regions (``covered``): a first
    look at ``LOOK_MAX_SIDE`` says where there may be text (large bibs of runners whose
    face was not found are plain at that size, small print is a faint trace on the
    detector's map), and only there is text found at ``WHOLE_MAX_SIDE``'s scale: a
    photo is mostly crowd, road and sky."""
    height, width = array.shape[:2]
    if shrink <= 1:
        return find_text(reader, array, (0, 0, width, height), 1.0)
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
        boxes += find_text(reader, array, place, scale)
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


def crop_quad(array, quad):
    """The text line inside ``quad`` of an RGB array, straightened."""
    width = max(2, int(round(_quad_width(quad))))
    height = max(2, int(round(_quad_height(quad))))
    target = np.array([(0, 0), (width, 0), (width, height), (0, height)], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(array, matrix, (width, height), flags=cv2.INTER_AREA
                               if height > REC_HEIGHT else cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def candidates(torso_boxes, whole_boxes, min_height):
    """The text boxes worth reading: each place once (a torso crop's box before the
    whole photo's), tall enough, not a long line."""
    boxes = []
    for box in list(torso_boxes) + list(whole_boxes):
        if not any(overlap(box["aabb"], k["aabb"]) > 0.5 for k in boxes):
            boxes.append(box)
    return [b for b in boxes if b["height"] >= min_height
            and _quad_width(b["quad"]) <= MAX_ASPECT * b["height"]]
