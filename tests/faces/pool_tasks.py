"""Worker tasks for the pool tests (importable by spawned worker processes)."""
import os
import time


def crash_on_marker(engine, source):
    """Kill the worker on b"crash"; echo other bytes back as the result."""
    if source == b"crash":
        os._exit(3)
    return source.decode(), None


def report_pid_or_sleep(engine, source):
    """Return this worker's pid, or sleep for a long time on b"sleep"."""
    if source == b"sleep":
        time.sleep(120)
    return os.getpid(), None

