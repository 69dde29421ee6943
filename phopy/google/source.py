"""Photos from a Google Drive folder: list items, fetch bytes (through the adapter)."""
from functools import partial

from phopy.google.drive import is_photo
from phopy.sources.base import PhotoSource


class DriveSource(PhotoSource):
    """The photo files of a Drive folder (and its subfolders when asked)."""

    name = "drive"

    def __init__(self, client, folder_id, recursive=True):
        self.client, self.folder_id, self.recursive = client, folder_id, recursive
        self.photos, self.others = [], []

    def scan(self):
        """List the folder once: photo files go to ``photos``, the rest to ``others``."""
        self.photos, self.others = [], []
        for meta in self.client.walk(self.folder_id, self.recursive):
            (self.photos if is_photo(meta) else self.others).append(meta)
        return self.photos

    def items(self, files=None):
        """Yield ``(filename, fetch, file_id)``; ``fetch()`` downloads the bytes."""
        for meta in (self.photos if files is None else files):
            yield meta["name"], partial(self.client.download, meta["id"]), meta["id"]
