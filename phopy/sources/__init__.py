"""Where photos come from. Every source lists items and fetches their bytes.

An item is ``(filename, fetch, ref)``: ``fetch()`` returns the bytes and
``ref`` says where the photo came from (a path, a Drive file id, a LINE
message id), so every source plugs into the same import service. The
channels keep their own sources: ``phopy.google.source`` (Drive folders) and
``phopy.line.source`` (LINE group images).
"""
from phopy.sources.base import PhotoSource
from phopy.sources.folder import FolderSource
from phopy.sources.upload import UploadSource

__all__ = ["PhotoSource", "FolderSource", "UploadSource"]
