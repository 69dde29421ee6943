"""The start list: a CSV import that is all or nothing, and what it does to readings."""
import io

import pytest

from phopy.bibs import start_list
from phopy.bibs.reading import read_again
from phopy.errors import ValidationError
from tests.bibs.conftest import conn_of, mark_running
from tests.conftest import db_rows, index_all, login, make_event, make_photographer

PATTERN = r"[A-Z]?\d{1,6}"


def test_a_start_list_with_the_usual_columns_is_read():
    data = ("Bib,Name,Category,E-mail,LINE ID\n4271,Barack O,42K,bo@example.com,@bo\n"
            "a318,Joe B,10K,,\n\n").encode()
    assert start_list.parse(data, PATTERN) == [
        {"bib": "4271", "name": "Barack O", "category": "42K", "email": "bo@example.com",
         "line_id": "@bo"},
        {"bib": "A318", "name": "Joe B", "category": "10K", "email": None, "line_id": None}]
    thai = "\ufeffเลขบิบ;ชื่อ\n12;สมชาย\n".encode()  # Excel's BOM, semicolons, Thai headers
    assert start_list.parse(thai, PATTERN) == [
        {"bib": "12", "name": "สมชาย", "category": None, "email": None, "line_id": None}]


def test_a_start_list_excel_saved_on_a_thai_windows_is_read():
    # Excel's plain "CSV (Comma delimited)" on a Thai Windows is Windows-874, not UTF-8
    data = "เลขบิบ,ชื่อ-นามสกุล,ระยะ\n101,สมชาย ใจดี,10K\n".encode("cp874")
    assert start_list.parse(data, PATTERN) == [
        {"bib": "101", "name": "สมชาย ใจดี", "category": "10K", "email": None,
         "line_id": None}]


@pytest.mark.parametrize("data, message", [
    # Latin-1 accents decode in Windows-874 too, as Thai vowel marks: not taken for Thai
    ("bib,name\n7,Renée Lefèvre\n".encode("latin-1"), "The start list is not a CSV file"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n\xff\xfe",
     "The start list is not a CSV file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "The start list is not a CSV file."),
    ("name,category\nBarack,42K\n".encode(), "The start list has no bib column"),
    (b"bib,name\n4271,Barack\n18,Joe\n4271,Kit\n", "Row 4: bib 4271 is already on row 2."),
    (b"bib,name\n4271,Barack\nabc-def-ghi,Joe\n", "Row 3: “abc-def-ghi” is not a bib number."),
    (b"bib,name\n4271,\n", "Row 2: the runner has no name."),
    (b"", "The start list is empty."),
])
def test_a_bad_start_list_is_refused_naming_the_row(data, message):
    with pytest.raises(ValidationError) as caught:
        start_list.parse(data, PATTERN)
    assert str(caught.value.message).startswith(message)


def test_more_than_100000_runners_imports_nothing(app):
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    conn = conn_of(app)
    try:
        assert start_list.import_start_list(conn, app.config, event["id"],
                                            b"bib,name\n1,Ann\n") == 1
        big = "bib,name\n" + "".join(f"{i},Runner {i}\n" for i in range(1, 100_002))
        with pytest.raises(ValidationError) as caught:
            start_list.import_start_list(conn, app.config, event["id"], big.encode())
        assert str(caught.value.message) == ("Row 100002: the start list has more than 100000 "
                                             "runners; nothing was imported.")
    finally:
        conn.close()
    assert db_rows(app, "SELECT bib, name FROM bib_start_list") == [{"bib": "1", "name": "Ann"}]


def test_the_dashboard_imports_a_start_list_and_shows_its_error(client, app):
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    login(client)
    response = client.post(f"/dashboard/events/{event['id']}/bibs/start-list",
                           data={"start_list": (io.BytesIO(b"number,name\n7,Ann\n8,Bo\n"),
                                                "runners.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "Start list imported: 2 runners." in response.get_data(as_text=True)
    response = client.post(f"/dashboard/events/{event['id']}/bibs/start-list",
                           data={"start_list": (io.BytesIO(b"number,name\n7,Ann\n7,Bo\n"),
                                                "runners.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "Row 3: bib 7 is already on row 2." in response.get_data(as_text=True)
    assert len(db_rows(app, "SELECT * FROM bib_start_list")) == 2  # the first list stays


def test_with_a_start_list_a_reading_off_it_is_kept_only_one_digit_away(face_app, race):
    """4271 is on the list; A318 is not, but one digit from A319: kept for review, not
    searchable, A319 suggested; a one-click fix makes it searchable as A319."""
    event_id = race["event"]["id"]
    conn = conn_of(face_app)
    try:
        start_list.import_start_list(conn, face_app.config, event_id,
                                     b"bib,name\n4271,Barack\nA319,Joe\n")
        read_again(conn, event_id)
    finally:
        conn.close()
    index_all(face_app)
    rows = db_rows(face_app, "SELECT bib, searchable, review, suggestion, id FROM bib_readings "
                             "ORDER BY bib, id")
    assert [(r["bib"], r["searchable"], r["review"], r["suggestion"]) for r in rows] == [
        ("4271", 1, None, None), ("4271", 1, None, None), ("A318", 0, "not_on_start_list", "A319")]
    client = face_app.test_client()
    assert client.post(f"/api/events/{event_id}/search", data={"bib": "A318"}).status_code == 404
    login(client)
    review = client.get(f"/dashboard/events/{event_id}/bibs/review").get_data(as_text=True)
    assert "Not on the start list" in review and 'value="A319"' in review
    assert client.get(f"/dashboard/events/{event_id}/bibs/readings/{rows[2]['id']}.jpg"
                      ).mimetype == "image/jpeg"
    response = client.post(f"/dashboard/events/{event_id}/bibs/review/{rows[2]['id']}",
                           data={"action": "use", "bib": "A319"}, follow_redirects=True)
    assert "Fixed: A319." in response.get_data(as_text=True)
    body = client.post(f"/api/events/{event_id}/search", data={"bib": "A319"}).get_json()
    assert [p["filename"] for p in body["photos"]] == ["b_biden_A318.jpg"]


def test_a_start_list_drops_readings_far_from_every_entry(face_app, owner, race_photos):
    from tests.conftest import add_files
    event = make_event(face_app, owner["id"], "Listed")
    mark_running(face_app, event["id"])
    conn = conn_of(face_app)
    try:
        start_list.import_start_list(conn, face_app.config, event["id"], b"bib,name\n55,Ann\n")
    finally:
        conn.close()
    add_files(face_app, event["id"], [race_photos["a_obama_4271.jpg"]])
    index_all(face_app)
    assert db_rows(face_app, "SELECT * FROM bib_readings") == []
