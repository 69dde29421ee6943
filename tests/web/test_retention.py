"""Face data retention for every event: close, purge after the set days, search ends."""
from datetime import datetime, timedelta

from tests.conftest import (add_files, db_rows, file_upload, index_all, login, make_event,
                            make_photographer)


def purge(app, now=None):
    from phopy.data import get_database
    from phopy.services import retention
    conn = get_database(app).connect()
    try:
        return retention.purge_due(conn, app.config["FACE_RETENTION_DAYS"], now=now)
    finally:
        conn.close()


def test_face_data_is_purged_days_after_close_and_search_ends(face_app, faces_dir):
    app, client = face_app, face_app.test_client()
    user = make_photographer(app)
    event = make_event(app, user["id"])
    add_files(app, event["id"], [faces_dir / "group_photos" / "fr_two_people.jpg"])
    index_all(app)
    login(client)
    assert purge(app) == []  # open events keep their faces
    client.post(f"/dashboard/events/{event['id']}/face-data", data={"action": "close"})
    closed = db_rows(app, "SELECT closed_at FROM events")[0]["closed_at"]
    assert closed
    closed_at = datetime.fromisoformat(closed)
    assert purge(app, now=closed_at + timedelta(days=6, hours=23)) == []
    assert purge(app, now=closed_at + timedelta(days=7, minutes=1)) == [event["id"]]
    assert db_rows(app, "SELECT * FROM faces") == []
    assert len(db_rows(app, "SELECT * FROM photos")) == 1  # photos stay
    page = client.get(f"/e/{event['code']}").get_data(as_text=True)
    assert 'id="search-ended"' in page and 'id="selfie-form"' not in page
    selfie = faces_dir / "face_recognition_examples" / "obama.jpg"
    response = client.post(f"/e/{event['code']}", data={"selfies": [file_upload(selfie)]},
                           content_type="multipart/form-data")
    assert response.status_code == 410
    assert 'id="faces-purged"' in client.get(
        f"/dashboard/events/{event['id']}").get_data(as_text=True)


def test_retention_can_be_set_per_event_on_the_dashboard(app, client):
    user = make_photographer(app)
    event = make_event(app, user["id"])
    login(client)
    url = f"/dashboard/events/{event['id']}/face-data"
    client.post(url, data={"action": "retention", "face_retention_days": "30"})
    assert db_rows(app, "SELECT face_retention_days FROM events")[0]["face_retention_days"] == 30
    response = client.post(url, data={"action": "retention", "face_retention_days": "-4"},
                           headers={"Accept-Language": "th"}, follow_redirects=True)
    assert "เก็บข้อมูลใบหน้าได้ 0 ถึง 365 วัน" in response.get_data(as_text=True)
    client.post(url, data={"action": "close"})
    closed_at = datetime.fromisoformat(db_rows(app, "SELECT closed_at FROM events")[0]["closed_at"])
    assert purge(app, now=closed_at + timedelta(days=8)) == []
    assert purge(app, now=closed_at + timedelta(days=30, seconds=1)) == [event["id"]]
    other = make_photographer(app, "bob@example.com")
    assert other and client.post(f"/dashboard/events/{event['id']}x/face-data",
                                 data={"action": "close"}).status_code == 404


def test_purge_runs_as_a_scheduled_job():
    import phopy.line.intake  # noqa: F401  (declares line-auto-close)
    import phopy.services.retention  # noqa: F401  (declares purge-faces)
    from phopy.jobs.schedule import all_entries
    entries = {p.name: p for p in all_entries()}
    assert entries["purge-faces"].kind == "purge_faces"
    line_on = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    assert entries["line-auto-close"].interval({**line_on, "LINE_AUTO_CLOSE_MINUTES": 60}) == 300
    # "Is LINE on?" has one answer: a token without its secret is not LINE set up.
    assert entries["line-auto-close"].interval({"LINE_CHANNEL_ACCESS_TOKEN": "t",
                                                "LINE_AUTO_CLOSE_MINUTES": 60}) == 0
    assert entries["line-auto-close"].interval({}) == 0
