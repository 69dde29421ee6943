"""Face crops: the face only, small, made once from the stored photo and kept in storage
(``crops/<event>/<face id>.jpg``) — what "is this you?" shows instead of the photo."""
import logging
import threading

from phopy.data import search_sessions as sessions_db
from phopy.errors import N_, NotFound
from phopy.faces.images import decode_image, make_thumbnail

log = logging.getLogger(__name__)
CROP_SIDE = 200     # pixels, the crop's longest side
MARGIN = 0.35       # of the face box, added on each side
_lock = threading.Lock()


def crops_prefix(event_id):
    """Where an event's face crops are kept."""
    return f"crops/{event_id}"


def crop_key(event_id, face_id):
    return f"{crops_prefix(event_id)}/{int(face_id)}.jpg"


def face_crop(conn, storage, event_id, face_id, max_pixels):
    """JPEG bytes of one face of the event (NotFound when the event has no such face)."""
    face = sessions_db.face_box(conn, event_id, face_id)
    if face is None:
        raise NotFound(N_("This face is no longer available."))
    key = crop_key(event_id, face_id)
    if storage.exists(key):
        return storage.read(key)
    with _lock:  # one decode of a large photo at a time for crops
        if storage.exists(key):
            return storage.read(key)
        with storage.open(face["storage_key"]) as fh:
            image, _size = decode_image(fh.read(), max_pixels=max_pixels)
        data = make_thumbnail(image.crop(_box(face, image.size)), CROP_SIDE, quality=85)
        storage.save(key, data)
    log.debug("made the crop of face %s of event %s", face_id, event_id)
    return data


def _box(face, size):
    """The face box with a margin, inside the image (boxes are full-size oriented pixels)."""
    width, height = size
    top, right, bottom, left = (float(face[k]) for k in
                                ("box_top", "box_right", "box_bottom", "box_left"))
    pad_x, pad_y = (right - left) * MARGIN, (bottom - top) * MARGIN
    return (max(0, int(left - pad_x)), max(0, int(top - pad_y)),
            min(width, int(right + pad_x)) or 1, min(height, int(bottom + pad_y)) or 1)
