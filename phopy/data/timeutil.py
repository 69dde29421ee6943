"""Timestamps as stored in the database: ISO-8601 UTC strings and unix seconds."""
import time
from datetime import datetime, timezone


def utc_now_iso():
    """Now, as an ISO-8601 UTC string with seconds."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def unix_now():
    """Now, as unix seconds."""
    return time.time()
