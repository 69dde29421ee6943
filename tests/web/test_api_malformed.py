"""40+ malformed REST API calls: each a clear 4xx {error, message}, nothing stored changes."""
import io

import pytest

from tests.conftest import db_rows, make_event, make_photographer
from tests.web.api_helpers import bearer, make_key

TINY_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
            b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
            b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JSON = "application/json"

# (method, path, request kwargs, expected status). {own}/{other} are event ids.
CASES = [
    ("POST", "/api/events", {"data": "{not json", "content_type": JSON}, 400),
    ("POST", "/api/events", {"data": "", "content_type": JSON}, 400),
    ("POST", "/api/events", {"data": "[1, 2]", "content_type": JSON}, 400),
    ("POST", "/api/events", {"data": '"a string"', "content_type": JSON}, 400),
    ("POST", "/api/events", {"data": "null", "content_type": JSON}, 400),
    ("POST", "/api/events", {"data": "name=Party", "content_type":
                             "application/x-www-form-urlencoded"}, 400),
    ("POST", "/api/events", {"json": {}}, 400),
    ("POST", "/api/events", {"json": {"name": 12345}}, 400),
    ("POST", "/api/events", {"json": {"name": None}}, 400),
    ("POST", "/api/events", {"json": {"name": ["Party"]}}, 400),
    ("POST", "/api/events", {"json": {"name": "ab"}}, 400),
    ("POST", "/api/events", {"json": {"name": "x" * 101}}, 400),
    ("POST", "/api/events", {"json": {"name": "<b></b>  "}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "event_date": "31/12/2026"}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "event_date": 20261231}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "is_listed": "yes"}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "is_listed": 1}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "auto_index": None}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "owner_id": 2}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "id": "x"}}, 400),
    ("POST", "/api/events", {"json": {"name": "Party", "location": {"city": "BKK"}}}, 400),
    ("PATCH", "/api/events/{own}", {"json": {}}, 400),
    ("PATCH", "/api/events/{own}", {"data": "{", "content_type": JSON}, 400),
    ("PATCH", "/api/events/{own}", {"json": {"name": ""}}, 400),
    ("PATCH", "/api/events/{own}", {"json": {"code": "AAAAAA"}}, 400),
    ("PATCH", "/api/events/{own}", {"json": {"faces_version": 9}}, 400),
    ("PATCH", "/api/events/{own}", {"json": {"is_listed": "false"}}, 400),
    ("PATCH", "/api/events/{own}", {"json": {"name": "Fine name", "event_date": "2026-13-01"}},
     400),
    ("PATCH", "/api/events/{other}", {"json": {"name": "Hijacked"}}, 404),
    ("PATCH", "/api/events/no-such-event", {"json": {"name": "Nobody"}}, 404),
    ("DELETE", "/api/events/{other}", {}, 404),
    ("DELETE", "/api/events/no-such-event", {}, 404),
    ("GET", "/api/events/no-such-event", {}, 404),
    ("GET", "/api/events/{other}", {}, 404),
    ("GET", "/api/events?page=0", {}, 400),
    ("GET", "/api/events?page=-1", {}, 400),
    ("GET", "/api/events?page=abc", {}, 400),
    ("GET", "/api/events?page=1.5", {}, 400),
    ("GET", "/api/events?per_page=0", {}, 400),
    ("GET", "/api/events?per_page=101", {}, 400),
    ("GET", "/api/events?per_page=1000000", {}, 400),
    ("GET", "/api/events?per_page=" + "9" * 400, {}, 400),
    ("GET", "/api/events/{own}/photos?per_page=500", {}, 400),
    ("GET", "/api/events/{other}/photos", {}, 404),
    ("GET", "/api/tasks/no-such-task", {}, 404),
    ("GET", "/api/events/{other}/analytics", {}, 404),
    ("POST", "/api/events/{own}/photos", {"data": {}, "content_type": "multipart/form-data"},
     400),
    ("POST", "/api/events/{own}/photos", {"json": {"photos": ["a.jpg"]}}, 400),
    ("POST", "/api/events/{own}/photos", {"data": {"photos": (io.BytesIO(b"hello"), "a.txt")},
                                          "content_type": "multipart/form-data"}, 415),
    ("POST", "/api/events/{own}/photos", {"data": {"photos": (io.BytesIO(b""), "empty.jpg")},
                                          "content_type": "multipart/form-data"}, 415),
    ("POST", "/api/events/{other}/photos", {"data": {"photos": (io.BytesIO(TINY_PNG), "a.png")},
                                            "content_type": "multipart/form-data"}, 404),
    ("POST", "/api/events/{other}/index", {}, 404),
    ("PUT", "/api/events/{own}", {"json": {"name": "Replaced"}}, 405),
    ("DELETE", "/api/events", {}, 405),
    ("POST", "/api/search-face", {"data": {}, "content_type": "multipart/form-data"}, 400),
    ("POST", "/api/search-face", {"data": {"event_code": "ZZZZZZ",
                                           "selfies": (io.BytesIO(TINY_PNG), "me.png")},
                                  "content_type": "multipart/form-data"}, 404),
    ("POST", "/api/search-face", {"data": {"event_id": "{own}"},
                                  "content_type": "multipart/form-data"}, 400),
    ("POST", "/api/search-face", {"data": {"event_id": "{own}",
                                           "selfies": (io.BytesIO(b"text"), "me.txt")},
                                  "content_type": "multipart/form-data"}, 415),
    ("POST", "/api/search-face", {"data": {"event_id": "{own}", "selfies": [
        (io.BytesIO(TINY_PNG), f"{i}.png") for i in range(4)]},
        "content_type": "multipart/form-data"}, 400),
    ("POST", "/api/search-face", {"data": {"event_id": "{own}", "event_code": "ZZZZZZ",
                                           "selfies": (io.BytesIO(TINY_PNG), "me.png")},
                                  "content_type": "multipart/form-data"}, 400),
    ("GET", "/api/no-such-route", {}, 404),
]


def snapshot(app):
    """Everything a bad call must not change."""
    return {table: db_rows(app, f"SELECT * FROM {table} ORDER BY 1") for table in
            ("events", "photos", "faces", "tasks", "photographers", "search_log")}


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("method,path,kwargs,status", CASES,
                         ids=[f"{i:02d}-{c[0]}-{c[1][:40]}" for i, c in enumerate(CASES)])
def test_malformed_call_is_a_clear_4xx_and_changes_nothing(app, method, path, kwargs, status):
    ann = make_photographer(app)
    bob = make_photographer(app, "bob@example.com")
    ids = {"own": make_event(app, ann["id"], "Ann's party")["id"],
           "other": make_event(app, bob["id"], "Bob's party")["id"]}
    headers = bearer(make_key(app, ann["id"])[1])
    before = snapshot(app)
    kwargs = {k: (_fill(v, ids) if k != "data" or isinstance(v, dict) else v)
              for k, v in kwargs.items()}
    response = app.test_client().open(path.format(**ids), method=method, headers=headers,
                                       **kwargs)
    assert response.status_code == status, response.data[:300]
    body = response.get_json()
    assert body and body["error"] and body["message"], response.data[:300]
    assert "Traceback" not in body["message"]
    assert snapshot(app) == before


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40
