"""What every /api route can answer is in the OpenAPI document, and a 405 says what is
allowed (issue 19, low): each route is called as it would be by a stranger, a client with a
stale key, a key holder and a signed-in browser without a CSRF token, with rate limits on."""
import io
import itertools
import re

import pytest
from PIL import Image

from phopy import create_app
from phopy.data import get_database
from phopy.services import accounts
from tests.conftest import add_files, db_rows, make_event, make_photographer, make_test_config
from tests.web.api_helpers import make_key

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>")


def jpeg(tmp_path):
    path = tmp_path / "small.jpg"
    Image.new("RGB", (64, 48), (120, 80, 40)).save(path, format="JPEG")
    return path


class Setup:
    """An app with one owner, an event with a photo and a task, an ended event and keys."""

    def __init__(self, tmp_path, **config):
        self.app = create_app(make_test_config(tmp_path, WTF_CSRF_ENABLED=True, **config))
        owner = make_photographer(self.app)
        self.owner = owner
        self.event = make_event(self.app, owner["id"], "Spec party")
        self.ended = make_event(self.app, owner["id"], "Ended party")
        add_files(self.app, self.event["id"], [jpeg(tmp_path)])
        self.task_id = db_rows(self.app, "SELECT id FROM tasks")[0]["id"]
        conn = get_database(self.app).connect()
        try:
            conn.execute("UPDATE events SET faces_purged_at = created_at WHERE id = ?",
                         (self.ended["id"],))
            self.login_id = accounts.start_login_session(conn, owner["id"])
        finally:
            conn.close()
        self.key = make_key(self.app, owner["id"])[1]
        self.spec = self.app.test_client().get("/api/openapi.json").get_json()
        self.addresses = (f"10.{a}.{b}.1" for a, b in itertools.product(range(1, 250),
                                                                         repeat=2))

    def client(self, kind):
        """A test client of one kind, from an address of its own."""
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = next(self.addresses)
        if kind == "session":
            with client.session_transaction() as session:
                session["photographer_id"] = self.owner["id"]
                session["login"] = self.login_id
        headers = {"stale": {"Authorization": "Bearer phopy_this_key_was_revoked"},
                   "key": {"Authorization": f"Bearer {self.key}"}}.get(kind, {})
        return client, headers

    def paths(self, rule):
        """The rule's path with real values, and with values that name nothing."""
        real = {"event_id": self.event["id"], "code": self.event["code"],
                "task_id": self.task_id}
        fill = lambda values: _PARAM.sub(lambda m: str(values.get(m.group(1), "x")), rule.rule)
        paths = [fill(real)]
        if rule.arguments:
            paths.append(fill({}))
            if "event_id" in rule.arguments or "code" in rule.arguments:
                paths.append(fill({"event_id": self.ended["id"], "code": self.ended["code"]}))
        return paths

    def documented(self, rule, method):
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", rule)
        return set(self.spec["paths"][path][method.lower()]["responses"])


def bodies(tmp_path):
    """What a caller may send: nothing, a JSON object, a selfie (with an event code)."""
    selfie = jpeg(tmp_path).read_bytes()
    def with_selfie(which):
        return lambda setup: {"data": {"selfies": [(io.BytesIO(selfie), "me.jpg")],
                                       "event_code": getattr(setup, which)["code"]},
                              "content_type": "multipart/form-data"}
    return [{}, {"json": {}}, {"json": {"name": "A new name"}}, with_selfie("event"),
            with_selfie("ended")]


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]


def call_everything(setup, tmp_path, repeat=1):
    """{(rule, method, status)} of every call made."""
    seen = set()
    for rule in api_rules(setup.app):
        for method in sorted(rule.methods & set(METHODS)):
            for kind, path in itertools.product(("anonymous", "stale", "key", "session"),
                                                setup.paths(rule)):
                for body in bodies(tmp_path) if method != "GET" else [{}]:
                    client, headers = setup.client(kind)
                    for _ in range(repeat):
                        kwargs = body(setup) if callable(body) else dict(body)
                        response = client.open(path, method=method, headers=headers,
                                               **kwargs)
                        seen.add((rule.rule, method, response.status_code))
    return seen


def undocumented(setup, seen):
    return sorted({(rule, method, status) for rule, method, status in seen
                   if str(status) not in setup.documented(rule, method)})


def test_every_answer_of_every_api_route_is_documented(tmp_path):
    setup = Setup(tmp_path / "plain")
    seen = call_everything(setup, tmp_path)
    statuses = {status for _rule, _method, status in seen}
    assert {200, 201, 400, 401, 404, 410} <= statuses, statuses  # the calls reached them
    assert 500 not in statuses
    missing = undocumented(setup, seen)
    assert not missing, "\n".join(map(str, missing))


def test_rate_limited_answers_are_documented(tmp_path):
    setup = Setup(tmp_path / "limited", RATELIMIT_ENABLED=True,
                  API_KEY_RATE_LIMIT="2 per hour", SEARCH_RATE_LIMIT="2 per hour",
                  SEARCH_ADDRESS_RATE_LIMIT="2 per hour", CODE_LOOKUP_RATE_LIMIT="2 per hour")
    seen = call_everything(setup, tmp_path, repeat=3)
    assert 429 in {status for _rule, _method, status in seen}
    missing = undocumented(setup, seen)
    assert not missing, "\n".join(map(str, missing))


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_a_405_names_the_allowed_methods(tmp_path, accept):
    setup = Setup(tmp_path / "allow")
    allowed = {}
    for rule in setup.app.url_map.iter_rules():
        allowed.setdefault(rule.rule, set()).update(rule.methods)
    checked = 0
    for rule_text, methods in allowed.items():
        if "<" in rule_text and not rule_text.startswith("/api/"):
            continue
        path = _PARAM.sub(lambda m: "x", rule_text)
        for method in set(METHODS) - methods:
            client, _headers = setup.client("anonymous")
            response = client.open(path, method=method, headers={"Accept": accept})
            if response.status_code != 405:
                continue
            checked += 1
            allow = {m.strip() for m in response.headers.get("Allow", "").split(",") if m}
            assert allow == methods, (rule_text, method, response.headers)
            if rule_text.startswith("/api/"):
                assert response.get_json()["error"] == "method_not_allowed"
    assert checked > 20
