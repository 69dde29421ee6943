"""Is LINE on? One answer for the whole package (and the schedule)."""


def is_enabled(config):
    """Whether the LINE settings are there (``LINE_CHANNEL_SECRET`` and
    ``LINE_CHANNEL_ACCESS_TOKEN``)."""
    return bool(config.get("LINE_CHANNEL_SECRET") and config.get("LINE_CHANNEL_ACCESS_TOKEN"))
