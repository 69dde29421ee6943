"""LINE jobs on events: photos from the group in, matches and pushes out, auto close.

- ``intake_image`` (job ``line_intake``): download one group image (retries),
  keep Phopy's own copy through the same import as uploads (dedupe by content),
  index it with the same pipeline, then match the event's participants.
- ``auto_close`` (job ``line_auto_close``, every 5 minutes): close group events
  whose last photo is older than ``LINE_AUTO_CLOSE_MINUTES``, post the group
  summary and each found participant's Flex message.
- ``match_event_bibs``: when a running event's photos were read for bibs (the end
  of job ``read_bibs``, through ``phopy.services.bib_hooks``), the participants who
  typed a bib number are matched and told "found you" once, as with faces.
Every message is queued in the same transaction as the state that caused it.
"""
import logging

from phopy.data import events as events_db
from phopy.data import line as line_db
from phopy.jobs.registry import job
from phopy.jobs.schedule import periodic
from phopy.line import attendees, gallery_links, messages, operators
from phopy.line.client import ContentGone, LineApi
from phopy.line.outbox import queue_message
from phopy.line.settings import is_enabled
from phopy.line.source import LineMessageSource
from phopy.services import indexing, photos
from phopy.services.bib_hooks import on_bibs_read
from phopy.services.retention import retention_days

log = logging.getLogger(__name__)


@job("line_intake", needs_pool=True, max_attempts=5)
def intake_image(ctx, event_id, group_id, message_id):
    """Job ``line_intake``: store, index and match one image sent in the group."""
    conn, config = ctx.conn, ctx.config
    if line_db.get_image(conn, message_id) is None:
        source = LineMessageSource(LineApi.from_config(config), [message_id])
        try:
            summary = photos.import_items(
                conn, ctx.storage, event_id, source.items(),
                max_bytes=config.get("MAX_PHOTO_BYTES", 10 << 20),
                thumb_side=config.get("THUMBNAIL_MAX_SIDE", 480), source="line")
        except ContentGone:
            log.warning("LINE image %s of event %s is gone", message_id, event_id)
            with conn.transaction():
                line_db.record_image(conn, message_id, event_id, group_id, None, "gone")
            return {"status": "gone"}
        photo_ids = summary.added + summary.duplicates
        with conn.transaction():
            line_db.record_image(conn, message_id, event_id, group_id,
                                 photo_ids[0] if photo_ids else None,
                                 "stored" if photo_ids else "skipped")
            line_db.touch_last_photo(conn, event_id)
        if not photo_ids:
            return {"status": "skipped", "rejected": summary.rejected}
    indexed = indexing.index_event(ctx, event_id)
    found = match_event(conn, ctx.config, ctx.search, event_id)
    return {"status": "stored", "faces": indexed["faces"], "participants_found": found}


def match_event(conn, config, search, event_id):
    """Match every participant with a selfie; push "found you" once each. Returns how
    many were found for the first time."""
    event = events_db.get(conn, event_id)
    if not event or event.get("faces_purged_at"):
        return 0
    first_found = 0
    for person in attendees.participants_to_match(conn, event_id):
        face = attendees.usable_face(person, search[1])
        if face is None:
            continue
        with conn.transaction():
            _new, first = attendees.match_user(conn, search, event_id, person["user_id"], face)
            if first:
                first_found += 1
                _tell_found(conn, config, event, person["user_id"], person["language"])
    return first_found


def _tell_found(conn, config, event, user_id, language):
    """Queue "found you" with the user's gallery link (in the caller's transaction)."""
    url = gallery_links.gallery_url(config, event["id"], user_id)
    queue_message(conn, user_id, messages.found_you(language, event, url), purpose="found_you")


@on_bibs_read
def match_event_bibs(conn, config, search, event_id):
    """Match the bibs participants typed against the event's readings; push "found
    you" once each (not again to one already told). Returns how many were found for
    the first time."""
    if not is_enabled(config):
        return 0
    event = events_db.get(conn, event_id)
    if not event or event.get("faces_purged_at"):
        return 0
    first_found = 0
    for user_id, language in attendees.participants_with_bibs(conn, event_id).items():
        with conn.transaction():
            if attendees.match_remembered_bibs(conn, config, search, event, user_id):
                first_found += 1
                _tell_found(conn, config, event, user_id, language)
    return first_found


def close_and_summarize(conn, config, event_id, reply_token=None, lang=None):
    """Close a group event, post the summary to the group and each found participant's
    gallery Flex. Returns False when it was already closed.

    The group's summary is in ``lang`` (whoever typed "close"); when the event closes
    on its own, in the language of the operator who started it.
    """
    with conn.transaction():
        if not operators.close_event(conn, event_id):
            return False
        event = events_db.get(conn, event_id)
        group = operators.event_group(conn, event_id)
        if lang is None and group["started_by"]:
            lang = (operators.get_user(conn, group["started_by"]) or {}).get("language")
        counts = operators.event_counts(conn, event_id)
        queue_message(conn, group["group_id"], messages.group_summary(
            lang, event, counts["photos"], counts["people"], config["LINE_BOT_BASIC_ID"]),
            reply_token=reply_token, purpose="group_summary")
        for person in attendees.participants(conn, event_id):
            photo_ids = attendees.matched_photo_ids(conn, event_id, person["user_id"])
            if photo_ids and attendees.mark_summary_sent(conn, event_id,
                                                              person["user_id"]):
                url = gallery_links.gallery_url(config, event_id, person["user_id"])
                queue_message(conn, person["user_id"], messages.photos_found_flex(
                    person["language"], event, len(photo_ids), url), purpose="summary")
    log.info("LINE event %s closed", event_id)
    return True


@job("line_auto_close", max_attempts=3)
def auto_close(ctx):
    """Job ``line_auto_close``: close group events idle for LINE_AUTO_CLOSE_MINUTES."""
    minutes = float(ctx.config.get("LINE_AUTO_CLOSE_MINUTES") or 0)
    if minutes <= 0:
        return {"closed": []}
    closed = [event_id for event_id in operators.idle_events(ctx.conn, minutes * 60)
              if close_and_summarize(ctx.conn, ctx.config, event_id)]
    return {"closed": closed}


def notice_days(conn, config, event_id):
    """Days the event's face data is kept after it closes (for the bot's notice)."""
    return retention_days(events_db.get(conn, event_id), config.get("FACE_RETENTION_DAYS", 7))


# Close LINE group events idle for LINE_AUTO_CLOSE_MINUTES (only with LINE set up).
periodic("line-auto-close", "line_auto_close",
         lambda cfg: 300 if is_enabled(cfg)
         and float(cfg.get("LINE_AUTO_CLOSE_MINUTES") or 0) > 0 else 0)
