"""Logging into logs/app.log (DEBUG) and logs/error.log (ERROR), rotating; log files
whose last line is older than ``LOG_KEEP_DAYS`` are deleted (:func:`prune_logs`)."""
import logging
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

FORMAT = "[%(asctime)s] %(levelname)s [%(module)s:%(lineno)d] - %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"


def init_logging(app):
    """Rotating files for everything; the console shows warnings and errors only.

    ``app.logger`` is the ``phopy`` logger (the app is named after the package),
    so Flask's own stderr handler is swapped for a WARNING-level one.
    """
    from flask.logging import default_handler
    log_dir = Path(app.config["LOG_DIR"])
    log_dir.mkdir(parents=True, exist_ok=True)
    prune_logs(log_dir, app.config.get("LOG_KEEP_DAYS", 30))
    formatter = logging.Formatter(FORMAT, DATEFMT)
    handlers = []
    for name, level in (("app.log", logging.DEBUG), ("error.log", logging.ERROR)):
        handler = RotatingFileHandler(log_dir / name, maxBytes=5 * 1024 * 1024, backupCount=5,
                                      encoding="utf-8")
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
