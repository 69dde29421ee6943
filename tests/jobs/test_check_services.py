"""flask check-services says clearly which service it cannot reach (start.sh relies on it)."""
import os

from phopy import create_app
from tests.conftest import make_test_config


def check(tmp_path, **settings):
    app = create_app(make_test_config(tmp_path, **settings))
    return app.test_cli_runner().invoke(args=["check-services"])


def test_unreachable_redis_and_database_are_named_without_passwords(tmp_path):
    result = check(tmp_path, REDIS_URL="redis://:pw-redis@127.0.0.1:1/0",
                   DATABASE_URL="postgresql://phopy:pw-db@127.0.0.1:1/phopy")
    assert result.exit_code == 1
    assert "Cannot reach database postgresql://127.0.0.1:1/phopy" in result.output
    assert "Cannot reach Redis 127.0.0.1:1/0" in result.output
    assert "pw-" not in result.output


def test_reachable_services_are_ok(tmp_path):
    redis_url = os.environ.get("PHOPY_TEST_REDIS_URL")
    result = check(tmp_path, REDIS_URL=redis_url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: database ")
    assert ("OK: Redis" in result.output) == bool(redis_url)
