"""Cleaning text that visitors type or upload before it is stored or shown."""
import os
import re
import unicodedata

_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


def strip_controls(value, keep=""):
    """``value`` without control, format (bidi overrides, zero-width) or unassigned
    characters, except those in ``keep``."""
    return "".join(ch for ch in value or ""
                   if unicodedata.category(ch)[0] != "C" or ch in keep)


def clean_text(value, max_length):
    """Strip tags and control characters, collapse whitespace, trim."""
    value = strip_controls(_TAGS.sub("", value or ""), keep="\n\t")
    value = _SPACES.sub(" ", value).strip()
    return value[:max_length]


def clean_filename(filename):
    """The base name of an uploaded file, without folders or control and bidi
    characters, at most 200 characters."""
    name = os.path.basename(strip_controls(filename).replace("\\", "/")).strip()
    return (name or "photo")[:200]


def file_stem(filename):
    """The cleaned name without its extension (a download keeps it)."""
    return os.path.splitext(clean_filename(filename))[0].strip(". ") or "photo"
