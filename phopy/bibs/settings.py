"""Is bib reading on for an event? Its bib pattern, and what a bib looks like.

On for an event its photographer marked "running event", or for every event
with ``BIB_SEARCH=1``; off otherwise, and then nothing of ``phopy.bibs`` runs
(no OCR model is loaded, no job is queued). Nothing here imports Flask.
"""
import re
import unicodedata

from phopy.data import bibs as bibs_db
from phopy.errors import N_, ValidationError

DEFAULT_PATTERN = r"[A-Z]?\d{1,6}"
MAX_PATTERN_LENGTH = 100
# Words on every race photo that a bib pattern must not match ("could match everything"):
# one of each length a bib may have.
_NOT_BIBS = ("", "X", "KM", "RUN", "ROAD", "START", "FINISH", "RUNNING", "MARATHON",
             "MARATHONS", "BANGKOKRUN", "SUPERSPORTS", "HALFMARATHON", "WATER", "HELLO")
_STRIP = re.compile(r"[\s#.\-_:]+")
# Bibs are ASCII (a Thai phone keyboard types ๔๒๗๑, a Japanese one ４２７１): a pattern's
# \d means 0-9 and its letters either case, as everything is compared upper case.
_FLAGS = re.ASCII | re.IGNORECASE


def event_settings(conn, config, event_id):
    """{running, pattern, search} of the event: reading on?, its pattern, searchable?"""
    row = bibs_db.get_settings(conn, event_id) or {}
    running = bool(config.get("BIB_SEARCH")) or bool(row.get("is_running_event"))
    return {"running": running, "marked": bool(row.get("is_running_event")),
            "pattern": row.get("bib_pattern") or DEFAULT_PATTERN,
            "search": running and bool(row.get("bib_search", 1))}


def is_reading_on(conn, config, event_id):
    """Whether the event's photos are read for bib numbers."""
    return event_settings(conn, config, event_id)["running"]


def check_pattern(text):
    """The cleaned bib pattern (None: the default), or ValidationError for one that is
    not a valid regular expression or could match everything."""
    text = (text or "").strip()
    if not text or text == DEFAULT_PATTERN:
        return None
    if len(text) > MAX_PATTERN_LENGTH:
        raise ValidationError(N_("The bib pattern is too long."), field="bib_pattern")
    try:
        compiled = re.compile(text, _FLAGS)
    except re.error:
        raise ValidationError(N_("The bib pattern is not a valid regular expression."),
                              field="bib_pattern") from None
    if any(compiled.fullmatch(word) for word in _NOT_BIBS):
        raise ValidationError(N_("The bib pattern matches words that are not bib numbers; "
                                 "make it stricter (for example [A-Z]?\\d{1,6})."),
                              field="bib_pattern")
    return text


def normalize(text):
    """Text as a bib: upper case, without spaces, '#', dots and dashes; any script's
    digits (Thai, Arabic-Indic, full-width) as 0-9, full-width letters as A-Z."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = "".join(str(unicodedata.decimal(ch, ch)) for ch in text)
    return _STRIP.sub("", text).upper()


def match_bib(pattern, text):
    """The bib in ``text`` when all of it fits the pattern, else None."""
    value = normalize(text)
    if value and len(value) <= 12 and re.fullmatch(pattern, value, _FLAGS):
        return value
    return None
