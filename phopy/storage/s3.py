"""The S3 backend (``STORAGE_BACKEND=s3``): any S3-compatible service through boto3.

Every machine reads and writes the same bucket, so web machines and workers
need no shared folder. Keys are stored below ``S3_PREFIX`` in ``S3_BUCKET``.
``S3_PRESIGN_SECONDS`` > 0 lets :meth:`S3Storage.url` hand browsers a presigned
GET URL; 0 (the default) means the app streams the bytes itself.

boto3's errors become Phopy's: a key that is not there is StorageMissing; a
server that cannot be reached, a missing bucket or refused credentials are
StorageUnavailable (retried by jobs, with a message that says what to fix).
"""
import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from phopy.storage.base import Storage, StorageMissing, StorageUnavailable, guess_type

log = logging.getLogger(__name__)

_MISSING = {"NoSuchKey", "404", "NotFound"}
_CREDENTIALS = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"}


class S3Storage(Storage):
    """Stores files as objects of one bucket, below an optional prefix."""

    backend = "s3"

    def __init__(self, *, bucket, endpoint_url=None, prefix="", region=None, access_key=None,
                 secret_key=None, presign_seconds=0, client=None):
        if not bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.prefix = (prefix or "").strip("/")
        self.presign_seconds = int(presign_seconds or 0)
        self._settings = {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket,
                          "S3_ENDPOINT_URL": self.endpoint_url or "", "S3_PREFIX": self.prefix,
                          "S3_REGION": region or "", "S3_ACCESS_KEY": access_key or "",
                          "S3_SECRET_KEY": secret_key or "",
                          "S3_PRESIGN_SECONDS": self.presign_seconds}
        self._client = client or self._make_client(region, access_key, secret_key)

    def _make_client(self, region, access_key, secret_key):
        import boto3
        from botocore.config import Config
        config = Config(signature_version="s3v4", connect_timeout=5, read_timeout=60,
                        retries={"max_attempts": 4, "mode": "standard"},
                        s3={"addressing_style": "path" if self.endpoint_url else "auto"})
        return boto3.client("s3", endpoint_url=self.endpoint_url,
                            region_name=region or "us-east-1",
                            aws_access_key_id=access_key or None,
                            aws_secret_access_key=secret_key or None, config=config)

    @classmethod
    def from_config(cls, config):
        """An S3Storage from the app's S3_* settings."""
        return cls(bucket=config.get("S3_BUCKET"), endpoint_url=config.get("S3_ENDPOINT_URL"),
                   prefix=config.get("S3_PREFIX") or "", region=config.get("S3_REGION"),
                   access_key=config.get("S3_ACCESS_KEY"),
                   secret_key=config.get("S3_SECRET_KEY"),
                   presign_seconds=config.get("S3_PRESIGN_SECONDS") or 0)

    def settings(self):
        return dict(self._settings)

    def describe(self):
        where = self.endpoint_url or "AWS"
        return f"S3 bucket {self.bucket}{'/' + self.prefix if self.prefix else ''} at {where}"

    # -- keys -------------------------------------------------------------------------
    def _name(self, key):
        if not key or key.startswith("/") or any(p in ("", ".", "..")
                                                  for p in key.split("/")):
            raise ValueError(f"bad storage key: {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _folder(self, prefix):
        return self._name(prefix.strip("/")) + "/"

    def _key(self, name):
        return name[len(self.prefix) + 1:] if self.prefix else name

    # -- errors -----------------------------------------------------------------------
    def _translate(self, exc, key=None):
        """StorageMissing / StorageUnavailable for a boto3 error."""
        from botocore.exceptions import ClientError
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code == "NoSuchBucket" or (code in _MISSING and key is None):
                return StorageUnavailable(
                    f"The S3 bucket {self.bucket} does not exist: create it or fix S3_BUCKET.")
            if code in _MISSING:
                return StorageMissing(key=key)
            if code in _CREDENTIALS:
                return StorageUnavailable(
                    f"{self.describe()} refused the credentials ({code}): "
                    "check S3_ACCESS_KEY and S3_SECRET_KEY.")
            return StorageUnavailable(f"{self.describe()} answered {code}.", key=key)
        return StorageUnavailable(f"{self.describe()} cannot be reached: {exc}. "
                                  "Check S3_ENDPOINT_URL.", key=key)

    def _call(self, method, key=None, **params):
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return getattr(self._client, method)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, key) from exc

    # -- the interface ----------------------------------------------------------------
    def save(self, key, data):
        """Upload bytes or a file object under ``key``; return the key."""
        name = self._name(key)
        if isinstance(data, (bytes, bytearray, memoryview)):
            self._call("put_object", key, Bucket=self.bucket, Key=name, Body=bytes(data),
                       ContentType=guess_type(key))
        else:
            self._call("upload_fileobj", key, Fileobj=data, Bucket=self.bucket, Key=name,
                       ExtraArgs={"ContentType": guess_type(key)})
        return key

    def open(self, key):
        """The object's body, streaming (botocore's StreamingBody: read, iter_chunks, close)."""
        return self._call("get_object", key, Bucket=self.bucket, Key=self._name(key))["Body"]

    def stat(self, key):
        """(size in bytes, modified unix time) of an object (a HEAD request)."""
        head = self._call("head_object", key, Bucket=self.bucket, Key=self._name(key))
        return head["ContentLength"], head["LastModified"].timestamp()

    def open_sized(self, key):
        """The object's streaming body and its size, from one GET."""
        answer = self._call("get_object", key, Bucket=self.bucket, Key=self._name(key))
        return answer["Body"], answer["ContentLength"]

    def exists(self, key):
        """Whether the object is there (a HEAD request)."""
        if key is None:
            return False
        try:
            self._call("head_object", key, Bucket=self.bucket, Key=self._name(key))
        except StorageMissing:
            return False
        return True

    def delete(self, key):
        """Remove one object (S3 answers the same when it was not there)."""
        if key:
            self._call("delete_object", key, Bucket=self.bucket, Key=self._name(key))

    def _pages(self, prefix):
        from botocore.exceptions import BotoCoreError, ClientError
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._folder(prefix)):
                yield page.get("Contents", [])
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, prefix) from exc

    def list(self, prefix):
        """(key, modified unix time) of every object below ``prefix``."""
        for contents in self._pages(prefix):
            for item in contents:
                yield self._key(item["Key"]), item["LastModified"].timestamp()

    def delete_prefix(self, prefix):
        """Remove every object below ``prefix``, a thousand per request."""
        for contents in self._pages(prefix):
            if contents:
                objects = [{"Key": item["Key"]} for item in contents]
                self._call("delete_objects", prefix, Bucket=self.bucket,
                           Delete={"Objects": objects, "Quiet": True})

    @contextmanager
    def local_copy(self, key):
        """Download the object into a temporary file; removed when the block ends."""
        suffix = Path(key).suffix
        fd, tmp = tempfile.mkstemp(prefix="phopy-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                self._call("download_fileobj", key, Bucket=self.bucket, Key=self._name(key),
                           Fileobj=fh)
            yield Path(tmp)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def url(self, key, *, filename=None, mimetype=None):
        """A presigned GET URL valid S3_PRESIGN_SECONDS, or None when the app streams."""
        if self.presign_seconds <= 0:
            return None
        params = {"Bucket": self.bucket, "Key": self._name(key),
                  "ResponseContentType": mimetype or guess_type(key)}
        if filename:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        return self._call("generate_presigned_url", key, ClientMethod="get_object",
                          Params=params, ExpiresIn=self.presign_seconds)

    def check(self):
        """The bucket answers (HEAD bucket) with these credentials."""
        self._call("head_bucket", Bucket=self.bucket)

    def create_bucket(self):
        """Create the bucket when it does not exist yet (set-up and tests)."""
        from botocore.exceptions import ClientError
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError:
            self._call("create_bucket", Bucket=self.bucket)
            return True
