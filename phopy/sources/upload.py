"""Photos uploaded through the browser or the API (already in memory)."""
from phopy.sources.base import PhotoSource


class UploadSource(PhotoSource):
    """Uploaded files given as (filename, bytes) pairs."""

    name = "upload"

    def __init__(self, files):
        self.files = list(files)

    def items(self):
        """Yield the uploaded files."""
        for filename, data in self.files:
            yield filename, data, None
