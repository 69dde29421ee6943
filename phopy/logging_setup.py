"""Logging into logs/app.log (DEBUG) and logs/error.log (ERROR), rotating; log files
whose last line is older than ``LOG_KEEP_DAYS`` are deleted (:func:`prune_logs`).

A live file is rolled over at 5 MB and also once its first line is a day old, so no
line outlives ``LOG_KEEP_DAYS`` by more than a day however slowly the file grows."""
import logging
import os
import sys
import time
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

FORMAT = "[%(asctime)s] %(levelname)s [%(module)s:%(lineno)d] - %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"
DAY = 86400
RECHECK_SECONDS = 60  # how often a handler looks whether another process rolled the file


def first_line_time(path):
    """When the log file's first line was written (its ``[%Y-%m-%d %H:%M:%S]`` prefix),
    its modification time when that line has no stamp, None when the file is empty or gone."""
    try:
        with open(path, "rb") as f:
            head = f.readline(64)
        if not head:
            return None
        try:
            return datetime.strptime(head[1:20].decode("ascii"), DATEFMT).timestamp()
        except (UnicodeDecodeError, ValueError):
            return os.stat(path).st_mtime
    except FileNotFoundError:
        return None


class DailyRotatingFileHandler(RotatingFileHandler):
    """RotatingFileHandler that also rolls over once the file's first line is a day old.

    Several processes (web workers, the runner) write the same file: every
    RECHECK_SECONDS a handler checks whether the path still names the file it has open
    (another process may have rolled it over) and reopens it, reading its first line's
    time again.
    """

    def __init__(self, filename, max_age=DAY, **kwargs):
        self.max_age = max_age
        self._first_at = None
        self._checked_at = 0.0
        super().__init__(filename, **kwargs)
        self._first_at = first_line_time(self.baseFilename)

    def _reopen_if_moved(self, now):
        self._checked_at = now
        try:
            on_disk = os.stat(self.baseFilename)
        except FileNotFoundError:
            on_disk = None
        if self.stream is not None:
            mine = os.fstat(self.stream.fileno())
            if on_disk is not None and (on_disk.st_ino, on_disk.st_dev) == (mine.st_ino, mine.st_dev):
                return
            self.stream.close()
            self.stream = None
        self._first_at = first_line_time(self.baseFilename)

    def shouldRollover(self, record):
        now = record.created
        if now - self._checked_at >= RECHECK_SECONDS:
            self._reopen_if_moved(now)
        if self._first_at is None:
            self._first_at = first_line_time(self.baseFilename)
        if self._first_at is not None and now - self._first_at >= self.max_age:
            return True
        return bool(super().shouldRollover(record))

    def doRollover(self):
        super().doRollover()
        self._first_at = None


def init_logging(app):
    """Rotating files for everything; the console shows warnings and errors only.

    ``app.logger`` is the ``phopy`` logger (the app is named after the package),
    so Flask's own stderr handler is swapped for a WARNING-level one.
    """
    from flask.logging import default_handler
    log_dir = Path(app.config["LOG_DIR"])
    log_dir.mkdir(parents=True, exist_ok=True)
    keep_days = float(app.config.get("LOG_KEEP_DAYS", 30) or 0)
    prune_logs(log_dir, keep_days)
    formatter = logging.Formatter(FORMAT, DATEFMT)
    handlers = []
    for name, level in (("app.log", logging.DEBUG), ("error.log", logging.ERROR)):
        if keep_days > 0:  # a file a day (more when busy); prune_logs deletes the old ones
            handler = DailyRotatingFileHandler(log_dir / name, maxBytes=5 * 1024 * 1024,
                                               backupCount=int(keep_days) + 10, encoding="utf-8")
        else:  # LOG_KEEP_DAYS=0 keeps logs: only the size limit, as before
            handler = RotatingFileHandler(log_dir / name, maxBytes=5 * 1024 * 1024,
                                          backupCount=5, encoding="utf-8")
        handler.setLevel(level)
        handler.setFormatter(formatter)
        handler._phopy = True  # so a second create_app does not add duplicates
        handlers.append(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(formatter)
    console._phopy = True
    handlers.append(console)
    for logger in {id(lg): lg for lg in (logging.getLogger("phopy"), app.logger)}.values():
        logger.removeHandler(default_handler)
        for old in [h for h in logger.handlers if getattr(h, "_phopy", False)]:
            logger.removeHandler(old)
            old.close()
        logger.setLevel(logging.DEBUG)
        for handler in handlers:
            logger.addHandler(handler)


def prune_logs(log_dir, keep_days, now=None):
    """Delete Phopy's log files (``app.log*``, ``error.log*``) last written more than
    ``keep_days`` ago; return their names. 0 keeps every file."""
    keep_days = float(keep_days or 0)
    if keep_days <= 0:
        return []
    cutoff = (now if now is not None else time.time()) - keep_days * 86400
    removed = []
    for path in sorted(Path(log_dir).glob("*.log*")):
        if not path.name.startswith(("app.log", "error.log")) or not path.is_file():
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:
            pass  # another process pruned or rotated it
    return removed
