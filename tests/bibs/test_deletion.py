"""What the bibs keep about people goes with the event and with its face-data purge:
readings (a number tied to a face and a photo), the photographer's fixes and the
start list (names, e-mails, LINE ids)."""
from datetime import datetime, timedelta

from phopy.bibs import service, start_list
from phopy.services import retention
from tests.bibs.conftest import conn_of
from tests.conftest import db_rows, login

PERSONAL = ("bib_readings", "bib_fixes", "bib_start_list")


def _counts(app, event_id, tables=PERSONAL + ("bib_scans", "bib_events")):
    return {t: db_rows(app, f"SELECT COUNT(*) AS n FROM {t} WHERE event_id = ?",
                       (event_id,))[0]["n"] for t in tables}


def _with_list_and_fix(app, event_id):
    """Import a start list and fix one reading: every bib table holds a row."""
    conn = conn_of(app)
    try:
        start_list.import_start_list(conn, app.config, event_id,
                                     b"bib,name,e-mail,line id\n4271,Barack,bo@example.com,@bo\n"
                                     b"A318,Joe,,\n")
        reading = db_rows(app, "SELECT id FROM bib_readings WHERE event_id = ? ORDER BY id",
                          (event_id,))[0]
        service.fix(conn, app.config, event_id, reading["id"], "use", "4271")
    finally:
        conn.close()
    assert all(_counts(app, event_id).values())


def test_deleting_the_event_deletes_its_readings_fixes_and_start_list(face_app, race):
    event_id = race["event"]["id"]
    _with_list_and_fix(face_app, event_id)
    client = face_app.test_client()
    login(client)
    assert client.post(f"/dashboard/events/{event_id}/delete").status_code == 302
    assert _counts(face_app, event_id) == {t: 0 for t in _counts(face_app, event_id)}


def test_the_face_data_purge_deletes_readings_fixes_and_the_start_list(face_app, race):
    event_id = race["event"]["id"]
    _with_list_and_fix(face_app, event_id)
    client = face_app.test_client()
    login(client)
    client.post(f"/dashboard/events/{event_id}/face-data", data={"action": "close"})
    closed = datetime.fromisoformat(db_rows(face_app, "SELECT closed_at FROM events WHERE id = ?",
                                            (event_id,))[0]["closed_at"])
    days = face_app.config["FACE_RETENTION_DAYS"]
    conn = conn_of(face_app)
    try:
        assert retention.purge_due(conn, days, now=closed + timedelta(days=days, minutes=-1)) == []
        assert _counts(face_app, event_id, PERSONAL)["bib_start_list"] == 2  # kept till then
        assert retention.purge_due(conn, days, now=closed + timedelta(days=days, minutes=1)) == [
            event_id]
    finally:
        conn.close()
    assert _counts(face_app, event_id, PERSONAL) == {t: 0 for t in PERSONAL}
    assert len(db_rows(face_app, "SELECT id FROM photos WHERE event_id = ?", (event_id,))) == 4
    response = client.post(f"/api/events/{event_id}/search", data={"bib": "4271"})
    assert response.status_code == 404  # no runner with that number any more
