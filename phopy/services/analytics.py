"""What happened at an event: the search log, downloads, and the analytics built on them.

A search is logged with counts only (selfies, faces, photos, milliseconds):
never the selfie and never its encoding.
"""
import json
import logging
import time
from collections import Counter
from datetime import datetime, timezone

from phopy import metrics
from phopy.data import analytics as analytics_db

log = logging.getLogger(__name__)
TOP_PHOTOS = 10


def record_search(conn, event_id, selfies, faces_found, photo_ids, started):
    """Log one search that began at ``started`` (time.monotonic()) and count it."""
    seconds = time.monotonic() - started
    metrics.SEARCH_SECONDS.observe(seconds)
    metrics.SEARCHES.labels("found" if photo_ids else ("no_face" if not faces_found
                                                       else "no_match")).inc()
    try:
        analytics_db.insert_search(conn, event_id, selfies, faces_found, photo_ids,
                                   int(round(seconds * 1000)))
    except Exception:  # the attendee still gets their photos
        log.exception("could not log a search of event %s", event_id)


def record_downloads(conn, event_id, photo_ids):
    """Log photos downloaded from a search result."""
    if photo_ids:
        analytics_db.insert_downloads(conn, event_id, photo_ids)


def _hour(unix_time):
    return datetime.fromtimestamp(unix_time, timezone.utc).strftime("%Y-%m-%d %H:00")


def _indexing_speed(times):
    """Photos scanned per minute, by minute (UTC), from checkpoint times."""
    per_minute = Counter(t[:16].replace("T", " ") for t in times if t)
    return [{"minute": m, "photos": n} for m, n in sorted(per_minute.items())]


def event_analytics(conn, event_id):
    """Searches per hour, share that found photos, downloads, most-found photos, indexing speed."""
    rows = analytics_db.searches(conn, event_id)
    per_hour = Counter(_hour(r["created_at"]) for r in rows)
    found = sum(1 for r in rows if r["photos_returned"])
    hits = Counter()
    for row in rows:
        hits.update(json.loads(row["photo_ids"] or "[]"))
    top = hits.most_common(TOP_PHOTOS)
    names = analytics_db.photo_names(conn, event_id, [p for p, _ in top])
    durations = sorted(r["duration_ms"] for r in rows)
    return {
        "event_id": event_id,
        "searches": len(rows),
        "searches_with_photos": found,
        "found_share": round(found / len(rows), 4) if rows else None,
        "median_search_ms": durations[len(durations) // 2] if durations else None,
        "searches_per_hour": [{"hour": h, "searches": n} for h, n in sorted(per_hour.items())],
        "downloads": analytics_db.download_count(conn, event_id),
        "top_photos": [{"photo_id": p, "filename": names[p], "found": n}
                       for p, n in top if p in names],
        "indexing_per_minute": _indexing_speed(analytics_db.scan_times(conn, event_id)),
    }
