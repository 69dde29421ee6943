"""Is a runner alive? Runner ids, dead-process checks, abandoned tasks."""
import os
import socket
import uuid

from phopy.data.timeutil import unix_now

HOST = socket.gethostname()


def new_runner_id():
    """An id for a runner: host, process id and a nonce."""
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def runner_is_dead(runner_id):
    """True when the runner was a process on this host that no longer exists."""
    try:
        host, pid, _nonce = (runner_id or "").split(":")
        pid = int(pid)
    except ValueError:
        return False
    if host != HOST:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid):
    """A killed process nobody has reaped yet still answers kill(pid, 0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def is_abandoned(task, stale_seconds, now=None):
    """A running task whose runner died or stopped sending heartbeats."""
    if task["status"] != "running":
        return False
    now = now or unix_now()
    stale = task["heartbeat_at"] is None or now - task["heartbeat_at"] > stale_seconds
    return stale or runner_is_dead(task["claimed_by"])
