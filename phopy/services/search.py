"""Selfie search: find an attendee's photos in an event.

Each process keeps a float32 matrix of each searched event's encodings
(:class:`SearchCache`). When the event's ``faces_version`` (stored in the
database, bumped with every change to its faces, photos or checkpoints) differs,
new faces are appended and removals reload the event, so it stays right with
several web processes.
Selfies are decoded in memory and never written to disk.

Only faces made by the running engine and model version are ever compared
with a selfie. An event holding faces of another engine (the deployment
switched ``FACE_ENGINE``) is not searched at all until it is re-indexed: the
attendee gets a clear message instead of matches from mixed vectors.
"""
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from phopy.data import faces as faces_db
from phopy.data import photos as photos_db
from phopy.errors import N_, Message, NeedsReindex, NoFaceFound, PhopyError, ValidationError
from phopy.faces import EngineSettings, FaceIndex, match_photos
from phopy.faces.engine import engine_key
from phopy.faces.images import DEFAULT_MAX_PIXELS, check_dimensions
from phopy.faces.rows import MIN_SPARE
from phopy.services import analytics
from phopy.services.photos import check_image_bytes

log = logging.getLogger(__name__)


class SearchEnded(PhopyError):
    """The event's face data was purged (retention): no more face search."""

    status_code = 410
    code = "search_ended"


@dataclass
class _Cached:
    version: tuple      # (faces_version, engine key)
    index: object       # FaceIndex
    last_id: int        # the largest face id loaded
    removed: int        # the event's faces_removed counter when loaded
    other_engines: int  # faces of another engine, at this version
    summary: dict = None  # photos_db.checkpoint_summary at this version, once asked


class SearchCache:
    """Per event: the FaceIndex of the running engine's faces, safe across threads.

    The event's ``faces_version`` moves with every change to its faces, photos and
    checkpoints; what is kept for a version is kept until it moves:

    - with faces only added (the event's faces_removed counter unchanged) just the
      faces with an id above the largest loaded are read and written into the index's
      spare rows (faces of one event get their ids in commit order,
      ``phopy.data.photos.record_scan``); a removal, a re-index or a purge reloads it;
    - how many faces another engine made, and the checkpoint summary a search shows,
      are counted once per version, not at every search.

    At most ``max_mb`` megabytes of indexes are kept (SEARCH_CACHE_MAX_MB, 0: no
    limit): the least recently searched events go first. Events deleted or whose face
    data was purged are dropped at the next look-up of any event (the same query that
    reads the searched event's version).
    """

    def __init__(self, max_mb=0):
        self.max_bytes = int(float(max_mb or 0) * 1024 * 1024)
        self._items = OrderedDict()
        self._lock = threading.Lock()       # the dict of entries (held briefly)
        self._load_lock = threading.Lock()  # one load or refresh at a time
        self.loads = {"full": 0, "incremental": 0}

    def get_index(self, conn, event_id, settings=None):
        """The event's FaceIndex of the faces ``settings``' engine made, kept up to date."""
        return self.lookup(conn, event_id, settings).index

    def other_engine_faces(self, conn, event_id, settings=None):
        """How many of the event's faces another engine made (cached per faces version)."""
        return self.lookup(conn, event_id, settings).other_engines

    def summary(self, conn, event_id, settings=None):
        """The event's checkpoint summary (photos_db.checkpoint_summary), per version."""
        return self.summary_of(conn, event_id, self.lookup(conn, event_id, settings))

    @staticmethod
    def summary_of(conn, event_id, entry):
        """The checkpoint summary of a looked-up entry, counted once for its version."""
        if entry.summary is None:
            entry.summary = photos_db.checkpoint_summary(conn, event_id)
        return dict(entry.summary)

    def lookup(self, conn, event_id, settings=None):
        """The event's entry (index, other engines' faces, summary) at its version now."""
        settings = settings or EngineSettings()
        key = engine_key(settings)
        cached_ids = list(self._items)
        stamps = faces_db.change_stamps(conn, [event_id, *cached_ids])
        for gone in set(cached_ids) - set(stamps):
            self.drop(gone)
        if event_id not in stamps:  # deleted or purged: nothing to search, nothing kept
            return _Cached((None, key), FaceIndex([], [], [], engine=settings.profile),
                           0, 0, 0, photos_db.checkpoint_summary(conn, event_id))
        faces_version, removed = stamps[event_id]
        version = (faces_version, key)
        cached = self._items.get(event_id)
        if cached and cached.version == version:
            self._touch(event_id)
            return cached
        with self._load_lock:  # a search of another, cached event does not wait for it
            cached = self._items.get(event_id)
            if cached and cached.version == version:
                return cached
            if cached and cached.version[1] == key and cached.removed == removed:
                entry = self._refresh(conn, event_id, cached, version)
            else:
                entry = self._load(conn, event_id, settings, version, removed)
            with self._lock:
                self._items[event_id] = entry
                self._items.move_to_end(event_id)
                self._evict(keep=event_id)
            return entry

    def _load(self, conn, event_id, settings, version, removed):
        profile = settings.profile
        face_ids, photo_ids, matrix = faces_db.event_matrix(conn, event_id, *version[1],
                                                            profile.size)
        index = FaceIndex(face_ids, photo_ids, matrix, engine=profile,
                          spare=max(MIN_SPARE, len(face_ids) // 8))
        last_id = int(face_ids[-1]) if len(face_ids) else 0
        self.loads["full"] += 1
        log.debug("loaded %d faces of event %s (version %s)", len(face_ids), event_id, version)
        return _Cached(version, index, last_id, removed,
                       faces_db.count_other_engines(conn, event_id, *version[1]))

    def _refresh(self, conn, event_id, cached, version):
        """The cached entry with the faces added since."""
        other = cached.other_engines + faces_db.count_other_engines(
            conn, event_id, *version[1], after_id=cached.last_id)
        face_ids, photo_ids, matrix = faces_db.event_matrix(
            conn, event_id, *version[1], cached.index.size, after_id=cached.last_id)
        index = cached.index.extended(face_ids, photo_ids, matrix)
        last_id = int(face_ids[-1]) if len(face_ids) else cached.last_id
        self.loads["incremental"] += 1
        log.debug("added %d faces to event %s (version %s)", len(face_ids), event_id,
                  version)
        return _Cached(version, index, last_id, cached.removed, other)

    def _touch(self, event_id):
        with self._lock:
            if event_id in self._items:
                self._items.move_to_end(event_id)

    def _evict(self, keep):
        if not self.max_bytes:
            return
        total = sum(entry.index.nbytes for entry in self._items.values())
        for event_id in list(self._items):
            if total <= self.max_bytes:
                break
            if event_id != keep:
                total -= self._items.pop(event_id).index.nbytes
                log.info("search cache: evicted event %s (limit %d MB)", event_id,
                         self.max_bytes // (1024 * 1024))

    def drop(self, event_id):
        """Forget an event's index."""
        with self._lock:
            self._items.pop(event_id, None)

    def __contains__(self, event_id):
        return event_id in self._items

    @property
    def nbytes(self):
        """The memory the cached indexes hold."""
        return sum(entry.index.nbytes for entry in list(self._items.values()))


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
    encodings: list = field(default_factory=list, repr=False)  # the selfies' (not stored)


def check_selfie(data, max_bytes, max_pixels=DEFAULT_MAX_PIXELS, name="selfie"):
    """Refuse a selfie too large in bytes or in declared pixels, before any decoding
    (every channel's selfies come through here: web, API, CLI, LINE)."""
    check_image_bytes(data, max_bytes, name)
    check_dimensions(data, max_pixels, name)


def match_encodings(conn, cache, settings, event_id, encodings, tolerance=None, entry=None):
    """The event's photos whose faces match these selfie encodings, best first.

    The one place a search meets the face index, whoever asks (the web page, the
    API, the CLI, the LINE bot): the process's ``cache``, the faces the running
    engine (``settings``) made, and its tolerance unless one is given. ``entry``:
    the event's cache entry when the caller looked it up already.
    """
    index = (entry or cache.lookup(conn, event_id, settings)).index
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


def check_engine(conn, event_id, settings, cache=None, entry=None):
    """Raise NeedsReindex when the event holds faces another engine or model made
    (counted once per faces version when a cache or its looked-up ``entry`` is given)."""
    if entry is not None:
        other = entry.other_engines
    elif cache is not None:
        other = cache.other_engine_faces(conn, event_id, settings)
    else:
        other = faces_db.count_other_engines(conn, event_id, *engine_key(settings))
    if other:
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
        cache.drop(event["id"])
        raise SearchEnded(N_("Face search for this event has ended: its face data was "
                             "deleted after the event."))
    entry = cache.lookup(conn, event["id"], engine.settings)  # one look-up for the search
    check_engine(conn, event["id"], engine.settings, entry=entry)
    started = time.monotonic()
    try:
        encodings, counts, notices = read_selfies(engine, selfies, max_bytes, max_selfies,
                                                  max_pixels)
    except NoFaceFound:
        analytics.record_search(conn, event["id"], len(selfies), 0, [], started)
        raise
    matches = match_encodings(conn, cache, engine.settings, event["id"], encodings, tolerance,
                              entry=entry)
    photos = photos_db.get_many(conn, [m.photo_id for m in matches])
    summary = cache.summary_of(conn, event["id"], entry)
    complete = summary["remaining"] == 0
    if not complete:
        notices.append({"code": "still_indexing", "indexed": summary["scanned"],
                        "total": summary["total_photos"]})
    rows = [{"photo": photos[m.photo_id], "distance": round(float(m.distance), 4)}
            for m in matches if m.photo_id in photos]
    analytics.record_search(conn, event["id"], len(counts), len(encodings),
                            [r["photo"]["id"] for r in rows], started)
    return SearchResult(event["id"], rows, counts, summary["scanned"], summary["total_photos"],
                        complete, notices, encodings)
