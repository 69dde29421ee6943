"""The storage backends under test: the file backend and a real S3 server.

``./test.sh`` starts SeaweedFS (scripts/test_services.sh) and exports
PHOPY_TEST_S3_*; without it the S3 cases skip, or fail under
PHOPY_REQUIRE_SERVICES=1 (CI), which also refuses moto's fallback server.
"""
import os
import uuid

import pytest

from phopy.storage import make_storage


def s3_settings(prefix=None, **overrides):
    """S3_* settings for the test server, in a bucket folder of their own."""
    url = os.environ.get("PHOPY_TEST_S3_ENDPOINT_URL")
    if not url:
        if os.environ.get("PHOPY_REQUIRE_SERVICES"):
            pytest.fail("PHOPY_TEST_S3_ENDPOINT_URL is not set (./test.sh starts SeaweedFS)")
        pytest.skip("no S3 server: run ./test.sh, which starts SeaweedFS")
    if os.environ.get("PHOPY_REQUIRE_SERVICES") and \
            os.environ.get("PHOPY_TEST_S3_SERVER") != "seaweedfs":
        pytest.fail("CI runs the S3 tests on SeaweedFS, not on a fallback")
    settings = {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": url,
                "S3_BUCKET": os.environ["PHOPY_TEST_S3_BUCKET"],
                "S3_ACCESS_KEY": os.environ["PHOPY_TEST_S3_ACCESS_KEY"],
                "S3_SECRET_KEY": os.environ["PHOPY_TEST_S3_SECRET_KEY"],
                "S3_REGION": "us-east-1", "S3_PREFIX": prefix or f"t-{uuid.uuid4().hex[:12]}",
                "S3_PRESIGN_SECONDS": 0}
    settings.update(overrides)
    make_storage(settings).create_bucket()
    return settings


@pytest.fixture(params=["file", "s3"])
def storage_config(request, tmp_path):
    """Settings naming one backend, with its own empty space."""
    if request.param == "file":
        return {"STORAGE_BACKEND": "file", "DATA_DIR": str(tmp_path / "data")}
    return dict(s3_settings(), DATA_DIR=str(tmp_path / "data"))


@pytest.fixture
def storage(storage_config):
    """An empty Storage of the backend under test."""
    return make_storage(storage_config)
