"""Events fed from Google Drive folders: browse, check, link, sync (a job).

A sync lists the folder (after a cheap Changes API check when a page token is
stored), drops photos whose Drive file is gone, and downloads new or changed
files (by ``md5Checksum``) on a few threads while the main thread stores them
through the same ``add_photo`` as uploads. Each file's outcome is written in
the photo's transaction, so a killed sync resumes without downloading finished
files again. Indexing is queued as batches land, so it overlaps downloading.
"""
import json
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from phopy.data import events as events_db
from phopy.data import google as google_db
from phopy.data import photos as photos_db
from phopy.data import tasks as tasks_db
from phopy.errors import (N_, FileTooLarge, ImageDecodeError, PhopyError, UnsupportedFile,
                          ValidationError)
from phopy.faces.images import make_thumbnail, open_image
from phopy.google import accounts
from phopy.google.drive import FOLDER_MIME, DriveAccessError, DriveFileError, parse_folder_ref
from phopy.google.settings import drive_enabled
from phopy.google.source import DriveSource
from phopy.jobs.queue import enqueue
from phopy.jobs.registry import job
from phopy.jobs.schedule import periodic
from phopy.services import indexing, photos

log = logging.getLogger(__name__)
INDEX_EVERY = 8  # queue indexing each time this many new photos have landed

ACCESS_MESSAGES = {
    "revoked": N_("Google Drive access was revoked or has expired. Reconnect Google Drive."),
    "not_found": N_("The Drive folder is gone or no longer shared with you."),
    "forbidden": N_("Google Drive refused access to this folder."),
    "quota": N_("Google Drive's quota is used up for now; syncing is paused."),
}


class DriveLinkError(PhopyError):
    """Drive refused access to a linked folder (the message says what to do)."""

    code = "drive_access"
    status_code = 409


def access_message(reason):
    """The user-facing message for an access problem."""
    return ACCESS_MESSAGES.get(reason, ACCESS_MESSAGES["forbidden"])


def folder_id_from(text):
    """A folder id from a pasted link or id; ValidationError when it is not one."""
    folder_id = parse_folder_ref(text)
    if not folder_id:
        raise ValidationError(N_("This is not a Google Drive folder link or ID."), field="folder")
    return folder_id


def _access(exc):
    return DriveLinkError(access_message(exc.reason), reason=exc.reason)


def browse(client, parent="root", page_token=None):
    """Folders in ``parent`` (a page), the shared drives, and breadcrumbs to it."""
    try:
        folders, next_token = client.list_folders(parent, page_token)
        crumbs, current = [], parent
        for _ in range(10):
            if current == "root":
                break
            meta = client.get(current, fields="id,name,parents,driveId")
            crumbs.insert(0, {"id": meta["id"], "name": meta["name"]})
            parents = meta.get("parents") or []
            if not parents or parents[0] == meta.get("driveId"):
                if meta.get("driveId") and meta["id"] != meta["driveId"]:
                    crumbs.insert(0, {"id": meta["driveId"], "name": None})
                break
            current = parents[0]
        drives = client.list_shared_drives() if parent == "root" and not page_token else []
    except DriveAccessError as exc:
        raise _access(exc) from exc
    return {"folders": folders, "next_page_token": next_token, "crumbs": crumbs,
            "drives": drives, "parent": parent}


def check_folder(client, folder_id, include_subfolders=True):
    """Is it a folder we may list and download? How many photos and other files?"""
    try:
        meta = client.get(folder_id)
        if meta.get("mimeType") != FOLDER_MIME:
            raise ValidationError(N_("This Drive item is not a folder."), field="folder")
        caps = meta.get("capabilities") or {}
        if caps.get("canListChildren") is False:
            raise DriveLinkError(access_message("forbidden"), reason="forbidden")
        source = DriveSource(client, folder_id, include_subfolders)
        source.scan()
    except DriveAccessError as exc:
        raise _access(exc) from exc
    return {"id": folder_id, "name": meta.get("name"), "photos": len(source.photos),
            "others": len(source.others), "can_download": caps.get("canDownload", True),
            "include_subfolders": bool(include_subfolders)}


def client_for_link(conn, config, link):
    """The Drive client a link syncs with."""
    if link["mode"] == "public":
        return accounts.public_client(config)
    return accounts.drive_client(conn, config, link["photographer_id"])


def link_folder(conn, config, client, event_id, photographer_id, folder_id,
                include_subfolders=True, mode="oauth"):
    """Check the folder, link it to the event and queue the first sync; return (check, task)."""
    summary = check_folder(client, folder_id, include_subfolders)
    with conn.transaction():
        old = google_db.get_link(conn, event_id)
        if old and old["folder_id"] != folder_id:  # another folder: the photos so far stay
            google_db.forget_files(conn, event_id)
        google_db.save_link(conn, event_id, photographer_id, folder_id, summary["name"],
                            include_subfolders, mode)
        task = enqueue_sync(conn, event_id, manual=True)
    return summary, task


def unlink_folder(conn, event_id):
    """Stop feeding the event from Drive (its photos stay)."""
    google_db.delete_link(conn, event_id)


def enqueue_sync(conn, event_id, manual=False):
    """Queue a sync of the event's folder (reusing a queued one)."""
    return enqueue(conn, "drive_sync", {"event_id": event_id, "manual": bool(manual)},
                   event_id=event_id, lock_key=f"drive:{event_id}", reuse_pending=True)


def latest_sync(conn, event_id):
    """The event's latest Drive sync task, or None."""
    return tasks_db.latest_for_event(conn, event_id, kind="drive_sync")


def link_status(conn, event_id):
    """The event's link with its last result and failed files, or None."""
    link = google_db.get_link(conn, event_id)
    if not link:
        return None
    out = dict(link)
    out["last_result"] = json.loads(link["last_result"]) if link["last_result"] else None
    out["failed"] = google_db.failed_files(conn, event_id)
    out["message"] = access_message(link["error_reason"]) if link["status"] != "ok" else None
    latest = latest_sync(conn, event_id)
    # A page drawn while a sync is queued or running reloads when it ends, even if it
    # ends before the page's first look at its progress.
    out["sync_open"] = bool(latest and latest["status"] in ("pending", "running"))
    return out


@job("drive_sync_all", max_attempts=1)
def sync_all(ctx):
    """Job ``drive_sync_all`` (periodic): queue a sync of every active link."""
    links = google_db.active_links(ctx.conn)
    for link in links:
        enqueue_sync(ctx.conn, link["event_id"])
    return {"queued": len(links)}


@job("drive_sync", max_attempts=4)
def sync_event(ctx, event_id, manual=False):
    """Job ``drive_sync``: bring the event up to date with its Drive folder."""
    conn = ctx.conn
    link = google_db.get_link(conn, event_id)
    if not link:
        return {"skipped": "not linked"}
    if link["status"] != "ok" and not manual:
        return {"skipped": "paused"}
    try:
        return _sync(ctx, link, client_for_link(conn, ctx.config, link), manual)
    except DriveAccessError as exc:
        log.warning("Drive sync of event %s paused: %s", event_id, exc)
        google_db.pause_link(conn, event_id, exc.reason, exc.detail)
        raise _access(exc) from exc


def _sync(ctx, link, client, manual=False):
    conn, event_id = ctx.conn, link["event_id"]
    ctx.progress(0, 0, "listing")
    token = None
    if link["mode"] == "oauth":
        if link["page_token"] and link["last_sync_at"] and not manual \
                and not google_db.count_failed(conn, event_id):
            changes, token = client.changes_since(link["page_token"])
            if not changes:
                result = {"changes": 0}
                google_db.finish_sync(conn, event_id, token, link["last_result"])
                return result
        else:
            token = client.start_page_token()
    meta = client.get(link["folder_id"])  # unshared or deleted: not_found, nothing dropped
    if meta.get("mimeType") != FOLDER_MIME:
        raise DriveAccessError("not_found", "not a folder")
    source = DriveSource(client, link["folder_id"], bool(link["include_subfolders"]))
    listed = source.scan()
    known = google_db.known_files(conn, event_id)
    listed_ids = {m["id"] for m in listed}
    deleted = sum(_drop_file(ctx, event_id, row) for fid, row in known.items()
                  if fid not in listed_ids)
    todo = [m for m in listed if _needs_fetch(known.get(m["id"]), m)]
    result = {"photos": len(listed), "others": len(source.others), "downloaded": 0,
              "added": 0, "unchanged": len(listed) - len(todo), "deleted": deleted,
              "rejected": [], "failed": []}
    _download_all(ctx, event_id, client, todo, known, result)
    google_db.finish_sync(conn, event_id, token, json.dumps(result))
    ctx.progress(len(todo), len(todo), "indexing" if result["added"] else "done")
    log.info("Drive sync of event %s: %s", event_id,
             {k: (len(v) if isinstance(v, list) else v) for k, v in result.items()})
    return result


def _needs_fetch(row, meta):
    if row is None or row["status"] == "failed":
        return True
    return bool(meta.get("md5Checksum")) and row["md5"] != meta.get("md5Checksum")


def _drop_file(ctx, event_id, row):
    """Forget a file gone from Drive; its photo (and faces) go unless still used."""
    conn = ctx.conn
    with conn.transaction():
        google_db.forget_file(conn, event_id, row["file_id"])
        _drop_photo(ctx, event_id, row)
    return 1


def _drop_photo(ctx, event_id, row):
    conn = ctx.conn
    if not row["photo_id"] or google_db.photo_still_used(conn, event_id, row["photo_id"],
                                                         row["file_id"]):
        return
    photo = photos_db.get(conn, row["photo_id"])
    if photo and photo["source"] == "drive":
        photos.delete_photo(conn, ctx.storage, event_id, photo["id"], ctx.config)


def _download_all(ctx, event_id, client, todo, known, result):
    """Download on a few threads, store in order on this one; queue indexing per batch."""
    conn, config = ctx.conn, ctx.config
    max_bytes = config["MAX_PHOTO_BYTES"]
    event = events_db.get(conn, event_id)
    auto_index = bool(event and event["auto_index"]) and config.get("AUTO_INDEX", True)
    batch = INDEX_EVERY
    workers = max(1, int(config.get("DRIVE_DOWNLOAD_WORKERS") or 4))
    fresh = 0

    def fetch(meta):
        if int(meta.get("size") or 0) > max_bytes:
            return meta, None, None
        try:
            return meta, client.download(meta["id"]), None
        except DriveFileError as exc:
            return meta, None, str(exc)

    with ThreadPoolExecutor(workers, thread_name_prefix="drive-dl") as pool:
        pending, it = deque(), iter(todo)
        for meta in it:
            pending.append(pool.submit(fetch, meta))
            if len(pending) >= workers * 2:
                break
        done = 0
        while pending:
            meta, data, error = pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(fetch, nxt))
            ctx.progress(done, len(todo), f"downloading {meta['name']}")
            fresh += _store(ctx, event_id, meta, data, error, known.get(meta["id"]), result)
            done += 1
            if auto_index and fresh >= batch:
                indexing.enqueue_indexing(conn, event_id)
                fresh = 0
    if auto_index and (fresh or result["added"]):
        indexing.enqueue_indexing(conn, event_id)


def _store(ctx, event_id, meta, data, error, old, result):
    """Add one downloaded file as a photo and record it, in one transaction."""
    conn, config = ctx.conn, ctx.config
    name, md5 = meta.get("path") or meta["name"], meta.get("md5Checksum")
    if error is not None:
        google_db.record_file(conn, event_id, meta["id"], name, md5, None, "failed", error)
        result["failed"].append({"name": name, "error": error})
        return 0
    try:
        with conn.transaction():
            if old and old["photo_id"]:
                _drop_photo(ctx, event_id, old)
            if data is None:
                raise FileTooLarge(N_("This file is too large."))
            result["downloaded"] += 1
            photo_id, is_new = photos.add_photo(
                conn, ctx.storage, event_id, meta["name"], data, max_bytes=config["MAX_PHOTO_BYTES"],
                thumb_side=config.get("THUMBNAIL_MAX_SIDE", 480), source="drive",
                source_ref=meta["id"])
            if is_new and not config.get("DRIVE_KEEP_ORIGINALS", True):
                _keep_display_copy(ctx.storage, photos_db.get(conn, photo_id), data)
            google_db.record_file(conn, event_id, meta["id"], name, md5, photo_id, "imported")
    except (FileTooLarge, UnsupportedFile) as exc:
        google_db.record_file(conn, event_id, meta["id"], name, md5, None, "rejected",
                              str(exc.message))
        result["rejected"].append({"name": name, "error": str(exc.message)})
        return 0
    result["added"] += int(is_new)
    return int(is_new)


DISPLAY_MAX_SIDE = 2400  # what the face engine scans at by default (FACE_DETECT_MAX_SIDE)


def _keep_display_copy(storage, photo, data):
    """DRIVE_KEEP_ORIGINALS=0: keep a display-size JPEG in place of the original."""
    try:
        copy = make_thumbnail(open_image(data, max_side=DISPLAY_MAX_SIDE), DISPLAY_MAX_SIDE, 90)
    except ImageDecodeError:
        return  # unreadable: keep the bytes as they are (the indexer records the error)
    if len(copy) < len(data):
        storage.save(photo["storage_key"], copy)


@photos.fetches_originals
def original_bytes(conn, config, photo):
    """A Drive photo's original, fetched from Drive when originals are not kept; else None.

    None also when Drive cannot give it now: the caller then serves the stored copy.
    """
    if config.get("DRIVE_KEEP_ORIGINALS", True) or photo["source"] != "drive" \
            or not photo["source_ref"]:
        return None
    link = google_db.get_link(conn, photo["event_id"])
    if not link:
        return None
    try:
        return client_for_link(conn, config, link).download(photo["source_ref"])
    except (DriveAccessError, DriveFileError, PhopyError) as exc:
        log.warning("original of photo %s not fetched from Drive: %s", photo["id"], exc)
        return None


periodic("drive-sync", "drive_sync_all",
         lambda cfg: 60 * float(cfg.get("DRIVE_SYNC_MINUTES", 5) or 0)
         if drive_enabled(cfg) else 0)
