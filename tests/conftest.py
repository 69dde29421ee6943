import pytest

from tests.face_data import require_faces_dir


@pytest.fixture(scope="session")
def faces_dir():
    """The shared face photo folder (skips, or fails in CI, when absent)."""
    return require_faces_dir()
