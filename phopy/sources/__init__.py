"""Where photos come from. Every source lists items and fetches their bytes.

An item is ``(filename, fetch, ref)``: ``fetch()`` returns the bytes and
``ref`` says where the photo came from (a path, a Drive file id, a LINE
message id), so later sources (Google Drive, LINE groups) plug into the same
import service.
"""
from phopy.sources.base import PhotoSource
from phopy.sources.drive import DriveSource
from phopy.sources.folder import FolderSource
from phopy.sources.upload import UploadSource

__all__ = ["PhotoSource", "DriveSource", "FolderSource", "UploadSource"]
