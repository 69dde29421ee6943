"""With REDIS_URL set, rate limits are counted in Redis and hold across processes."""
import os
import uuid

import pytest

from phopy import create_app
from tests.conftest import make_photographer, make_test_config


def test_storage_defaults_to_redis_url_and_an_explicit_setting_wins(tmp_path):
    url = "redis://127.0.0.1:6390/3"
    assert create_app(make_test_config(tmp_path / "a", REDIS_URL=None,
                                       RATELIMIT_STORAGE_URI=None)
                      ).config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert create_app(make_test_config(tmp_path / "b", REDIS_URL=url,
                                       RATELIMIT_STORAGE_URI=None)
                      ).config["RATELIMIT_STORAGE_URI"] == url
    assert create_app(make_test_config(tmp_path / "c", REDIS_URL=url,
                                       RATELIMIT_STORAGE_URI="memory://")
                      ).config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_two_web_processes_share_one_log_in_limit(tmp_path):
    redis_url = os.environ.get("PHOPY_TEST_REDIS_URL")
    if not redis_url:
        if os.environ.get("PHOPY_REQUIRE_SERVICES"):
            pytest.fail("PHOPY_TEST_REDIS_URL is not set (./test.sh starts Redis)")
        pytest.skip("no Redis: run ./test.sh, which starts one")
    # a day's window: a minute's could roll over between the requests
    settings = dict(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per day",
                    REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=None,
                    RATELIMIT_KEY_PREFIX=f"phopy-test-{uuid.uuid4().hex[:8]}")
    first = create_app(make_test_config(tmp_path, **settings))
    second = create_app(make_test_config(tmp_path, **settings))  # same data, another "process"
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    make_photographer(first)
    form = {"email": "ann@example.com", "password": "guess-guess"}
    statuses = [first.test_client().post("/auth/login", data=form).status_code
                for _ in range(2)]
    statuses += [second.test_client().post("/auth/login", data=form).status_code
                 for _ in range(2)]
    assert statuses == [401, 401, 401, 429]
