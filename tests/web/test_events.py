import io
import json

from PIL import Image

from phopy.services.events import CODE_ALPHABET
from tests.conftest import db_rows, login, make_event, make_photographer


def test_create_event_validates_name_and_makes_code_and_qr(app, client):
    make_photographer(app)
    login(client)
    too_short = client.post("/dashboard/events/new", data={"name": "  ab  "})
    assert too_short.status_code == 400 and b"3 to 100" in too_short.data
    too_long = client.post("/dashboard/events/new", data={"name": "x" * 101})
    assert too_long.status_code == 400
    assert db_rows(app, "SELECT COUNT(*) AS n FROM events")[0]["n"] == 0

    ok = client.post("/dashboard/events/new", data={
        "name": "  <b>Wedding</b>   of  Nok\x07 ", "event_date": "2026-12-05",
        "location": "Chiang Mai"})
    assert ok.status_code == 302
    event = db_rows(app, "SELECT * FROM events")[0]
    assert event["name"] == "Wedding of Nok"
    assert len(event["code"]) == 6 and set(event["code"]) <= set(CODE_ALPHABET)
    assert event["is_listed"] == 0
    page = client.get(f"/dashboard/events/{event['id']}")
    assert event["code"].encode() in page.data
    qr = client.get(f"/dashboard/events/{event['id']}/qr.png")
    assert qr.status_code == 200
    assert Image.open(io.BytesIO(qr.data)).format == "PNG"


def test_bad_date_is_a_friendly_error(app, client):
    make_photographer(app)
    login(client)
    response = client.post("/dashboard/events/new", data={"name": "Run", "event_date": "31/12"})
    assert response.status_code == 400 and b"2026-12-31" in response.data


def test_events_are_unlisted_until_listed(app, client):
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Songkran Run")
    assert b"Songkran Run" not in client.get("/events").data
    assert client.get(f"/e/{event['code']}").status_code == 200  # reachable by code
    login(client)
    client.post(f"/dashboard/events/{event['id']}/settings", data={"is_listed": "1",
                                                                   "auto_index": "1"})
    assert b"Songkran Run" in client.get("/events").data


def test_code_lookup_is_forgiving_and_unknown_code_is_404(app, client):
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    typed = event["code"].lower()[:3] + " " + event["code"].lower()[3:]
    response = client.get("/go", query_string={"code": typed})
    assert response.status_code == 302 and response.headers["Location"].endswith(event["code"])
    missing = client.get("/go", query_string={"code": "ZZZZZZ"})
    assert missing.status_code == 404 and b"No event has this code" in missing.data


def test_cli_create_photographer_and_event(app, runner):
    result = runner.invoke(args=["create-photographer", "op@example.com", "--password", "longenough"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-event", "--owner", "op@example.com", "Temple Fair"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["url"] == f"http://phopy.test/e/{out['code']}"
    assert db_rows(app, "SELECT name FROM events WHERE id = ?", (out["id"],))[0]["name"] == "Temple Fair"
    missing = runner.invoke(args=["create-event", "--owner", "nobody@example.com", "X event"])
    assert missing.exit_code != 0 and "No photographer" in missing.output


def test_404_page_and_json(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and b"<html" in page.data
    api = client.get("/api/no/such")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"
