"""Photos from a folder on this machine (``flask import-folder``)."""
from functools import partial
from pathlib import Path

from phopy.errors import NotFound
from phopy.sources.base import PhotoSource

SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif"}


class FolderSource(PhotoSource):
    """Every image file below a folder, in name order."""

    name = "folder"

    def __init__(self, folder, recursive=True):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise NotFound(f"Folder not found: {folder}")
        self.recursive = recursive

    def items(self):
        """Yield image files (by suffix), reading each only when fetched."""
        pattern = self.folder.rglob("*") if self.recursive else self.folder.glob("*")
        for path in sorted(pattern):
            if path.is_file() and path.suffix.lower() in SUFFIXES \
                    and not path.name.startswith("."):
                yield path.name, partial(path.read_bytes), str(path)
