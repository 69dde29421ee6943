"""The Drive v3 adapter: a client built from stored credentials (or an API key
for "anyone with the link" folders) and a few verbs — list a folder, file
metadata, download, changes.

Errors come out as three kinds the services understand: ``DriveAccessError``
(revoked token, unshared or missing folder, exhausted quota: the event must be
reconnected), ``DriveFileError`` (one file cannot be fetched) and
``TransientError`` (worth retrying later). Downloads retry 3 times with
1 s / 2 s / 4 s backoff (tenacity), honouring ``Retry-After``.
"""
import io
import logging
import re
import socket
import threading

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from phopy.errors import TransientError
from phopy.google.settings import DRIVE_SCOPE, client_credentials

log = logging.getLogger(__name__)

FOLDER_MIME = "application/vnd.google-apps.folder"
PHOTO_MIMES = {"image/jpeg", "image/png", "image/heic", "image/heif", "image/webp", "image/gif"}
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".gif")
FILE_FIELDS = "id,name,mimeType,md5Checksum,size,modifiedTime,parents,trashed,driveId"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{10,100}$")
LINK_RES = (re.compile(r"/folders/([A-Za-z0-9_-]+)"), re.compile(r"[?&]id=([A-Za-z0-9_-]+)"))
RETRY_STATUSES = {429, 500, 502, 503, 504}
QUOTA_REASONS = {"dailyLimitExceeded", "quotaExceeded", "userRateLimitExceeded",
                 "rateLimitExceeded", "storageQuotaExceeded", "downloadQuotaExceeded"}


class DriveAccessError(Exception):
    """Drive refuses this link: ``reason`` is revoked | not_found | forbidden | quota."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


class DriveFileError(Exception):
    """One file could not be fetched (after retries)."""


def parse_folder_ref(text):
    """The folder id in a Drive link or a bare id; None when it is not one."""
    text = (text or "").strip()
    for pattern in LINK_RES:
        m = pattern.search(text)
        if m:
            text = m.group(1)
            break
    return text if ID_RE.match(text) else None


def is_photo(meta):
    """A file Phopy imports: JPEG, PNG, HEIC, WebP or GIF (by type or name)."""
    return meta.get("mimeType") in PHOTO_MIMES or (
        meta.get("mimeType", "").startswith("image/")
        and meta.get("name", "").lower().endswith(PHOTO_SUFFIXES))


def _status(exc):
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "resp", None), "status", 0)


def _reason(exc):
    try:
        return (exc.error_details or [{}])[0].get("reason", "")
    except (AttributeError, IndexError, TypeError):
        return ""


def retry_after(exc):
    """Seconds from a Retry-After header, or None."""
    resp = getattr(exc, "resp", None)
    value = resp.get("retry-after") if resp is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def is_retryable(exc):
    """Network errors, 429 and 5xx (and Drive's 403 rate limits)."""
    if isinstance(exc, HttpError):
        status = int(_status(exc) or 0)
        return status in RETRY_STATUSES or (status == 403 and _reason(exc) in
                                            {"rateLimitExceeded", "userRateLimitExceeded"})
    return isinstance(exc, (TransportError, httplib2.HttpLib2Error, socket.timeout,
                            ConnectionError, TimeoutError, OSError)) \
        and not isinstance(exc, RefreshError)


class DriveClient:
    """Drive for one account (refresh token) or for public links (API key)."""

    def __init__(self, config, refresh_token=None, api_key=None):
        self.config = config
        self.refresh_token, self.api_key = refresh_token, api_key
        self.base = float(config.get("DRIVE_RETRY_BASE_SECONDS", 1.0))
        self._local = threading.local()

    # -- plumbing ---------------------------------------------------------------
    def _service(self):
        """One service per thread (httplib2 is not thread-safe)."""
        service = getattr(self._local, "service", None)
        if service is None:
            http = httplib2.Http(timeout=self.config.get("GOOGLE_HTTP_TIMEOUT", 60))
            options = {"api_endpoint": self.config["GOOGLE_DRIVE_API_ENDPOINT"]}
            if self.refresh_token:
                cid, secret = client_credentials(self.config)
                creds = Credentials(None, refresh_token=self.refresh_token,
                                    token_uri=self.config["GOOGLE_TOKEN_URI"], client_id=cid,
                                    client_secret=secret, scopes=[DRIVE_SCOPE])
                service = build("drive", "v3", http=AuthorizedHttp(creds, http=http),
                                static_discovery=True, cache_discovery=False,
                                client_options=options)
            else:
                service = build("drive", "v3", http=http, developerKey=self.api_key,
                                static_discovery=True, cache_discovery=False,
                                client_options=options)
            self._local.service = service
        return service

    def _wait(self, state):
        exc = state.outcome.exception()
        after = retry_after(exc)
        return after if after is not None else self.base * 2 ** (state.attempt_number - 1)

    def _call(self, make_request, what):
        """Run a request with 3 retries; translate Google's errors."""
        retrying = Retrying(stop=stop_after_attempt(4), wait=self._wait, reraise=True,
                            retry=retry_if_exception(is_retryable))
        try:
            return retrying(make_request)
        except RefreshError as exc:
            raise DriveAccessError("revoked", str(exc)) from exc
        except HttpError as exc:
            status, reason = int(_status(exc) or 0), _reason(exc)
            if status == 401:
                raise DriveAccessError("revoked", str(exc)) from exc
            if status == 404:
                raise DriveAccessError("not_found", what) from exc
            if reason in QUOTA_REASONS and status in (403, 429):
                raise DriveAccessError("quota", exc.reason) from exc
            if status == 403:
                raise DriveAccessError("forbidden", exc.reason) from exc
            if is_retryable(exc):
                raise TransientError(f"Google Drive: {exc.reason}",
                                     retry_after=retry_after(exc)) from exc
            raise DriveFileError(f"{status} {exc.reason}") from exc
        except Exception as exc:
            if is_retryable(exc):
                raise TransientError(f"Google Drive unreachable: {exc}") from exc
            raise

    def _files(self):
        return self._service().files()

    # -- verbs ------------------------------------------------------------------
    def get(self, file_id, fields=FILE_FIELDS + ",capabilities"):
        """One file's metadata (DriveAccessError not_found when missing)."""
        return self._call(lambda: self._files().get(
            fileId=file_id, fields=fields, supportsAllDrives=True).execute(), file_id)

    def list_page(self, q, page_token=None, page_size=1000, drive_id=None):
        """One page of files.list: (files, next_page_token)."""
        kwargs = {"q": q, "pageSize": page_size, "pageToken": page_token,
                  "fields": f"nextPageToken,files({FILE_FIELDS})", "orderBy": "folder,name",
                  "supportsAllDrives": True, "includeItemsFromAllDrives": True}
        if drive_id:
            kwargs.update(corpora="drive", driveId=drive_id)
        body = self._call(lambda: self._files().list(**kwargs).execute(), "list")
        return body.get("files", []), body.get("nextPageToken")

    def list_folders(self, parent, page_token=None, page_size=50):
        """A page of the sub-folders of ``parent`` ('root' = My Drive)."""
        q = f"'{parent}' in parents and mimeType = '{FOLDER_MIME}' and trashed = false"
        return self.list_page(q, page_token, page_size)

    def list_shared_drives(self):
        """Shared drives this account can see (empty for an API key)."""
        if not self.refresh_token:
            return []
        body = self._call(lambda: self._service().drives().list(pageSize=100).execute(),
                          "drives")
        return body.get("drives", [])

    def walk(self, folder_id, recursive=True):
        """Every file (not folder) under the folder, with its ``path``; pages followed."""
        queue = [(folder_id, "")]
        while queue:
            parent, prefix = queue.pop(0)
            token = None
            while True:
                files, token = self.list_page(f"'{parent}' in parents and trashed = false", token)
                for meta in files:
                    if meta["mimeType"] == FOLDER_MIME:
                        if recursive:
                            queue.append((meta["id"], prefix + meta["name"] + "/"))
                    else:
                        yield dict(meta, path=prefix + meta["name"])
                if not token:
                    break

    def download(self, file_id, chunk_size=8 * 1024 * 1024):
        """The file's bytes (Range requests by chunk), retried; DriveFileError on failure."""
        def fetch():
            buffer = io.BytesIO()
            downloader = MediaIoBaseDownload(buffer, self._files().get_media(
                fileId=file_id, supportsAllDrives=True), chunksize=chunk_size)
            done = False
            while not done:
                _status_, done = downloader.next_chunk()
            return buffer.getvalue()
        try:
            return self._call(fetch, file_id)
        except TransientError as exc:
            raise DriveFileError(str(exc)) from exc

    def start_page_token(self):
        """The token for changes from now on."""
        return self._call(lambda: self._service().changes().getStartPageToken(
            supportsAllDrives=True).execute(), "changes")["startPageToken"]

    def changes_since(self, page_token):
        """(changes, new start page token) since ``page_token``, every page followed."""
        out, token = [], page_token
        while True:
            body = self._call(lambda t=token: self._service().changes().list(
                pageToken=t, pageSize=1000, supportsAllDrives=True,
                includeItemsFromAllDrives=True).execute(), "changes")
            out.extend(body.get("changes", []))
            if body.get("newStartPageToken"):
                return out, body["newStartPageToken"]
            token = body["nextPageToken"]
