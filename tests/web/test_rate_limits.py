"""Log-in and selfie search are rate limited per client, with friendly 429s."""
import io

import pytest
from PIL import Image

from phopy import create_app
from tests.conftest import make_event, make_photographer, make_test_config


@pytest.fixture
def limited_app(tmp_path):
    return create_app(make_test_config(tmp_path, RATELIMIT_ENABLED=True,
                                       LOGIN_RATE_LIMIT="3 per minute",
                                       SEARCH_RATE_LIMIT="2 per minute"))


def test_repeated_log_in_attempts_get_429(limited_app):
    make_photographer(limited_app)
    client = limited_app.test_client()
    statuses = [client.post("/auth/login", data={"email": "ann@example.com",
                                                 "password": "guess-guess"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    page = client.post("/auth/login", data={"email": "ann@example.com", "password": "x"})
    assert page.status_code == 429 and b"Too many requests" in page.data
    # Another address is not affected.
    other = client.post("/auth/login", data={"email": "ann@example.com", "password": "nope-nope"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 401
    assert client.get("/auth/login").status_code == 200  # viewing the form is not limited


def test_searches_are_limited_with_json_429(limited_app):
    owner = make_photographer(limited_app)
    event = make_event(limited_app, owner["id"])
    client = limited_app.test_client()
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    statuses = []
    for _ in range(3):
        response = client.post(f"/api/events/{event['id']}/search",
                               data={"selfies": [(io.BytesIO(buf.getvalue()), "x.png")]},
                               content_type="multipart/form-data")
        statuses.append(response.status_code)
    assert statuses[:2] == [422, 422] and statuses[2] == 429
    assert response.get_json()["error"] == "too_many_requests"
