"""Selfie search: find an attendee's photos in an event.

Each process keeps a float32 matrix of each searched event's encodings. It is
rebuilt when the event's ``faces_version`` (stored in the database, bumped
with every face change) differs, so it stays right with several web processes.
Selfies are decoded in memory and never written to disk.

Only faces made by the running engine and model version are ever compared
with a selfie. An event holding faces of another engine (the deployment
switched ``FACE_ENGINE``) is not searched at all until it is re-indexed: the
attendee gets a clear message instead of matches from mixed vectors.
"""
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from phopy.data import events as events_db
from phopy.data import faces as faces_db
from phopy.data import photos as photos_db
from phopy.errors import N_, Message, NeedsReindex, NoFaceFound, PhopyError, ValidationError
from phopy.faces import EngineSettings, FaceIndex, match_photos
from phopy.faces.engine import engine_key
from phopy.faces.images import DEFAULT_MAX_PIXELS, check_dimensions
from phopy.services import analytics
from phopy.services.photos import check_image_bytes

log = logging.getLogger(__name__)


class SearchEnded(PhopyError):
    """The event's face data was purged (retention): no more face search."""

    status_code = 410
    code = "search_ended"


class SearchCache:
    """(event_id, engine key) -> (faces_version, FaceIndex), safe across threads."""

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def get_index(self, conn, event_id, settings=None):
        """The event's FaceIndex of the faces ``settings``' engine made, reloaded on change."""
        settings = settings or EngineSettings()
        key = engine_key(settings)
        profile = settings.profile
        version = (events_db.faces_version(conn, event_id), key)
        cached = self._items.get(event_id)
        if cached and cached[0] == version:
            return cached[1]
        with self._lock:
            cached = self._items.get(event_id)
            if cached and cached[0] == version:
                return cached[1]
            face_ids, photo_ids, blobs = faces_db.load_event_encodings(conn, event_id, *key)
            matrix = (np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, profile.size)
                      if blobs else np.zeros((0, profile.size), dtype=np.float32))
            index = FaceIndex(np.asarray(face_ids, dtype=np.int64),
                              np.asarray(photo_ids, dtype=np.int64), matrix, engine=profile)
            self._items[event_id] = (version, index)
            log.debug("loaded %d faces of event %s (version %s)", len(face_ids), event_id,
                      version)
            return index

    def drop(self, event_id):
        """Forget an event's matrix."""
        self._items.pop(event_id, None)


@dataclass
class SearchResult:
    """What a selfie search found, ready for a page or JSON."""

    event_id: str
    matches: list
    faces_in_selfies: list
    indexed_photos: int
    total_photos: int
    indexing_complete: bool
    notices: list = field(default_factory=list)


def check_selfie(data, max_bytes, max_pixels=DEFAULT_MAX_PIXELS, name="selfie"):
    """Refuse a selfie too large in bytes or in declared pixels, before any decoding
    (every channel's selfies come through here: web, API, CLI, LINE)."""
    check_image_bytes(data, max_bytes, name)
    check_dimensions(data, max_pixels, name)


def match_encodings(conn, cache, settings, event_id, encodings, tolerance=None):
    """The event's photos whose faces match these selfie encodings, best first.

    The one place a search meets the face index, whoever asks (the web page, the
    API, the CLI, the LINE bot): the process's ``cache``, the faces the running
    engine (``settings``) made, and its tolerance unless one is given.
    """
    index = cache.get_index(conn, event_id, settings)
    return match_photos(index, encodings,
                        settings.tolerance if tolerance is None else tolerance)


def read_selfies(engine, selfies, max_bytes, max_selfies=3, max_pixels=DEFAULT_MAX_PIXELS):
    """Encodings of the largest face in each selfie, with notices.

    ``selfies`` is a list of (filename, bytes); ``engine`` anything with
    ``analyze_selfie`` (a FaceEngine or a SelfieAnalyzer). Every selfie's size
    and declared pixels are checked before any is decoded. Raises
    ValidationError for a wrong count and NoFaceFound when no selfie shows a face.
    """
    selfies = [(name, data) for name, data in selfies if data]
    if not 1 <= len(selfies) <= max_selfies:
        raise ValidationError(Message(N_("Please choose 1 to %(n)d selfies."), n=max_selfies),
                              field="selfies")
    for name, data in selfies:
        check_selfie(data, max_bytes, max_pixels, name)
    encodings, counts, notices = [], [], []
    for name, data in selfies:
        faces = engine.analyze_selfie(data)
        counts.append(len(faces))
        if not faces:
            notices.append({"code": "no_face", "filename": name})
            continue
        if len(faces) > 1:
            notices.append({"code": "several_faces", "filename": name, "faces": len(faces)})
        encodings.append(faces[0].encoding)
    if not encodings:
        raise NoFaceFound(N_("We could not find a face in your selfie. Try a clear, well-lit "
                             "photo of your face, looking at the camera."),
                          faces_in_selfies=counts)
    return encodings, counts, notices


def check_engine(conn, event_id, settings):
    """Raise NeedsReindex when the event holds faces another engine or model made."""
    if faces_db.count_other_engines(conn, event_id, *engine_key(settings)):
        raise NeedsReindex(N_("This event's photos were indexed with a different face "
                              "engine. Searching is paused until the photographer re-indexes "
                              "them; please try again later."))


def search_event(conn, engine, cache, event, selfies, *, tolerance, max_bytes, max_selfies=3,
                 max_pixels=DEFAULT_MAX_PIXELS):
    """Search one event with 1–3 selfies; return a SearchResult, best match first.

    Each search that reads its selfies is logged (counts only, see analytics).
    An event indexed with another engine is refused before any selfie is read.
    """
    if event.get("faces_purged_at"):
        raise SearchEnded(N_("Face search for this event has ended: its face data was "
                             "deleted after the event."))
    check_engine(conn, event["id"], engine.settings)
    started = time.monotonic()
    try:
        encodings, counts, notices = read_selfies(engine, selfies, max_bytes, max_selfies,
                                                  max_pixels)
    except NoFaceFound:
        analytics.record_search(conn, event["id"], len(selfies), 0, [], started)
        raise
    matches = match_encodings(conn, cache, engine.settings, event["id"], encodings, tolerance)
    photos = photos_db.get_many(conn, [m.photo_id for m in matches])
    summary = photos_db.checkpoint_summary(conn, event["id"])
    complete = summary["remaining"] == 0
    if not complete:
        notices.append({"code": "still_indexing", "indexed": summary["scanned"],
                        "total": summary["total_photos"]})
    rows = [{"photo": photos[m.photo_id], "distance": round(float(m.distance), 4)}
            for m in matches if m.photo_id in photos]
    analytics.record_search(conn, event["id"], len(counts), len(encodings),
                            [r["photo"]["id"] for r in rows], started)
    return SearchResult(event["id"], rows, counts, summary["scanned"], summary["total_photos"],
                        complete, notices)
