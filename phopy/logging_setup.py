"""Logging into logs/app.log (DEBUG) and logs/error.log (ERROR), rotating."""
import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

FORMAT = "[%(asctime)s] %(levelname)s [%(module)s:%(lineno)d] - %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"


def init_logging(app):
    """Attach rotating file handlers to the ``phopy`` logger and ``app.logger``."""
    log_dir = Path(app.config["LOG_DIR"])
    log_dir.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter(FORMAT, DATEFMT)
    handlers = []
    for name, level in (("app.log", logging.DEBUG), ("error.log", logging.ERROR)):
        handler = RotatingFileHandler(log_dir / name, maxBytes=5 * 1024 * 1024, backupCount=5,
                                      encoding="utf-8")
        handler.setLevel(level)
        handler.setFormatter(formatter)
        handler._phopy = True  # so a second create_app does not add duplicates
        handlers.append(handler)
    for logger in (logging.getLogger("phopy"), app.logger):
        for old in [h for h in logger.handlers if getattr(h, "_phopy", False)]:
            logger.removeHandler(old)
            old.close()
        logger.setLevel(logging.DEBUG)
        for handler in handlers:
            logger.addHandler(handler)
