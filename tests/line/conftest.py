"""LINE fixtures: the fake LINE API server, an app pointed at it, a webhook driver."""
import json

import pytest

from phopy import create_app
from tests.conftest import make_test_config, run_jobs, use_engine
from tests.fakes import line_webhook as hooks
from tests.fakes.line_server import FakeLineServer

SECRET = "test-channel-secret"
OPERATOR = "U" + "a1" * 16
ATTENDEE = "U" + "b2" * 16
STRANGER = "U" + "c3" * 16
GROUP = "C" + "d4" * 16


@pytest.fixture
def line_server():
    """A fake LINE Messaging API on 127.0.0.1 (free port)."""
    server = FakeLineServer().start()
    server.add_profile(OPERATOR, "Oat the photographer", "th")
    server.add_profile(ATTENDEE, "Barack", "en")
    server.add_profile(STRANGER, "Somchai")
    server.state.groups[GROUP] = "Wedding crew"
    yield server
    server.stop()


@pytest.fixture
def line_engine(request):
    """The face engine the LINE app runs (parametrize indirectly to change it)."""
    return getattr(request, "param", "dlib")


@pytest.fixture
def line_app(tmp_path, line_server, engine_for, line_engine):
    """An app with LINE on, talking to the fake server, with a shared real face engine."""
    app = create_app(make_test_config(
        tmp_path, LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN="test-token",
        LINE_API_HOST=line_server.url, LINE_BOT_BASIC_ID="@phopy",
        JOB_RETRY_BASE_SECONDS=0, JOB_RETRY_MAX_SECONDS=0, FACE_ENGINE=line_engine))
    return use_engine(app, *engine_for(line_engine))


class Line:
    """Sends signed webhook events through the test client and runs the jobs."""

    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.client = app.test_client()

    def post(self, *events, secret=SECRET, signature=None):
        body = hooks.body(*events)
        headers = {"Content-Type": "application/json"}
        if signature is not False:
            headers["X-Line-Signature"] = signature or hooks.signature(secret, body)
        return self.client.post("/line/webhook", data=body, headers=headers)

    def send(self, *events):
        response = self.post(*events)
        assert response.status_code == 200, response.data
        self.run_jobs()
        return response

    def run_jobs(self, rounds=20):
        """Run queued tasks (retries included) until none is left."""
        return run_jobs(self.app, rounds)

    def texts(self, kind=None, to=None):
        """Texts of the messages delivered (reply and push), in order."""
        out = []
        for entry in self.server.delivered(kind, to):
            for message in entry["messages"]:
                out.append(message.get("text") or message.get("altText"))
        return out

    def last_texts(self, n=1):
        return self.texts()[-n:]


@pytest.fixture
def line(line_app, line_server):
    return Line(line_app, line_server)


def dump(value):
    return json.dumps(value, ensure_ascii=False, indent=1)
