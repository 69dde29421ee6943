"""Where the shared face photos live, and how tests ask for them.

The photos are read in place from ``../shared/datasets/faces`` (override with
``PHOPY_FACES_DIR``); the project ships none. When the folder is missing the
face tests skip with a clear reason, unless ``PHOPY_REQUIRE_FACES=1`` (set by
``.ci/run``), which turns that skip into a failure.
"""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACES_DIR = REPO_ROOT.parent / "shared" / "datasets" / "faces"


def resolve_faces_dir():
    """Return the face dataset folder named by PHOPY_FACES_DIR or the default."""
    return Path(os.environ.get("PHOPY_FACES_DIR") or DEFAULT_FACES_DIR)


def require_faces_dir():
    """Return the dataset folder, or skip (fail under PHOPY_REQUIRE_FACES=1)."""
    folder = resolve_faces_dir()
    if (folder / "group_photos").is_dir():
        return folder
    reason = (f"face photos not found at {folder}: set PHOPY_FACES_DIR to the "
              "shared datasets/faces folder to run the face tests")
    if os.environ.get("PHOPY_REQUIRE_FACES") == "1":
        pytest.fail(reason + " (PHOPY_REQUIRE_FACES=1 makes this an error)")
    pytest.skip(reason)
