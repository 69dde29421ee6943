"""What the bib pages do, as plain functions: per-event settings, the dashboard's
summary, the review queue and its one-click fixes, the crop of a reading."""
import io
import logging

from phopy.bibs import reading
from phopy.bibs.settings import check_pattern, event_settings, match_bib
from phopy.data import bibs as bibs_db
from phopy.data import photos as photos_db
from phopy.errors import N_, NotFound, ValidationError
from phopy.faces.images import decode_image

log = logging.getLogger(__name__)

REVIEW_REASONS = ("low_confidence", "not_on_start_list", "two_faces")


def save_settings(conn, config, event_id, running, pattern, searchable):
    """Store the event's bib settings; queue reading when it became a running event.
    Returns the task queued, if any."""
    before = event_settings(conn, config, event_id)
    pattern = check_pattern(pattern)
    bibs_db.put_settings(conn, event_id, running, pattern, searchable)
    after = event_settings(conn, config, event_id)
    if after["running"] and (not before["running"] or before["pattern"] != after["pattern"]):
        if before["pattern"] != after["pattern"]:
            return reading.read_again(conn, event_id)
        return reading.enqueue_reading(conn, event_id)
    return None


def summary(conn, config, event_id):
    """What the dashboard shows: settings, photos read, readings, start list size."""
    readings, bibs, review = bibs_db.count_readings(conn, event_id)
    return {**event_settings(conn, config, event_id),
            "read": bibs_db.count_read(conn, event_id),
            "to_read": bibs_db.count_to_read(conn, event_id),
            "readings": readings, "bibs": bibs, "review": review,
            "start_list": bibs_db.count_start_list(conn, event_id)}


def review_items(conn, event_id):
    """The readings waiting for the photographer."""
    return bibs_db.review_queue(conn, event_id)


def fix(conn, config, event_id, reading_id, action, bib=None):
    """One-click fix of a reading: ``use`` a number (the one typed or suggested) or
    ``reject`` it (not a bib). The fix is kept: later readings of that place yield to it."""
    try:
        row = bibs_db.get_reading(conn, event_id, int(reading_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise NotFound(N_("This reading does not exist."))
    if action == "reject":
        bibs_db.fix_reading(conn, row, None)
        return None
    if action != "use":
        raise ValidationError(N_("Choose a number or “Not a bib”."), field="action")
    value = match_bib(event_settings(conn, config, event_id)["pattern"], bib or row["bib"])
    if value is None:
        raise ValidationError(N_("That is not a bib number."), field="bib")
    bibs_db.fix_reading(conn, row, value)
    return value


def reading_crop(conn, storage, event_id, reading_id, max_pixels, side=240):
    """JPEG bytes of the place a reading was read (the bib and a margin around it)."""
    row = bibs_db.get_reading(conn, event_id, reading_id)
    if row is None:
        raise NotFound(N_("This reading does not exist."))
    photo = photos_db.get_many(conn, [row["photo_id"]]).get(row["photo_id"])
    if photo is None:
        raise NotFound(N_("This reading does not exist."))
    with storage.open(photo["storage_key"]) as fh:
        image, _size = decode_image(fh.read(), max_pixels=max_pixels)
    w, h = row["box_right"] - row["box_left"], row["box_bottom"] - row["box_top"]
    box = (max(0, row["box_left"] - w // 2), max(0, row["box_top"] - h),
           min(image.width, row["box_right"] + w // 2), min(image.height, row["box_bottom"] + h))
    crop = image.crop(box)
    crop.thumbnail((side, side))
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85)
    return out.getvalue()
