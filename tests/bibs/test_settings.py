"""The running-event card's settings: a bad bib pattern is a clear form error; what
the pattern and the start list make of a typed bib and of a phone's keyboard."""
import re

import pytest

from phopy.bibs.settings import check_pattern, match_bib
from tests.conftest import db_rows, login, make_event, make_photographer


@pytest.mark.parametrize("pattern, english, thai", [
    ("[0-9", "The bib pattern is not a valid regular expression.",
     "รูปแบบหมายเลขบิบไม่ใช่ regular expression ที่ถูกต้อง"),
    (".*", "The bib pattern matches words that are not bib numbers", None),
    (r"\d*", "The bib pattern matches words that are not bib numbers", None),
    ("9" * 101, "The bib pattern is too long.", None),
    ("....", "The bib pattern matches words that are not bib numbers", None),  # ROAD
    (r"[A-Z]{1,2}\d{0,4}", "The bib pattern matches words that are not bib numbers", None),
])
def test_a_bib_pattern_that_is_invalid_or_matches_everything_is_a_form_error(
        app, client, pattern, english, thai):
    event = make_event(app, make_photographer(app)["id"])
    login(client)
    url = f"/dashboard/events/{event['id']}/bibs"
    response = client.post(url, data={"is_running_event": "1", "bib_pattern": pattern,
                                      "bib_search": "1"}, follow_redirects=True)
    assert english in response.get_data(as_text=True)
    assert db_rows(app, "SELECT * FROM bib_events") == []  # nothing saved
    if thai:
        response = client.post(url, data={"is_running_event": "1", "bib_pattern": pattern},
                               headers={"Accept-Language": "th"}, follow_redirects=True)
        assert thai in response.get_data(as_text=True)
    client.post(url, data={"is_running_event": "1", "bib_pattern": r"[A-Z]\d{3,5}",
                           "bib_search": "1"})
    assert db_rows(app, "SELECT is_running_event, bib_pattern FROM bib_events") == [
        {"is_running_event": 1, "bib_pattern": r"[A-Z]\d{3,5}"}]


@pytest.mark.parametrize("pattern, typed, bib", [
    (r"[A-Z]?\d{1,6}", "๔๒๗๑", "4271"),     # Thai digits: a Thai phone keyboard
    (r"[A-Z]?\d{1,6}", "Ａ３１８", "A318"),   # full-width letters and digits
    (r"[A-Z]?\d{1,6}", "a 318", "A318"),
    (r"b\d{3}", "B123", "B123"),            # a pattern in lower case still matches
    (r"\d{3,5}", "ก123", None),              # a Thai letter is not a bib's prefix
    (r"[A-Z]?\d{1,6}", "๔๒๗๑๒๓๔", None),   # seven Thai digits: seven digits
])
def test_a_bib_is_compared_as_ascii_whatever_keyboard_typed_it(pattern, typed, bib):
    assert check_pattern(pattern) in (pattern, None)
    assert match_bib(pattern, typed) == bib


def test_a_phone_gets_the_number_pad_where_the_event_s_bibs_are_digits(app):
    """The bib field's keyboard: the start list decides when there is one, else a
    pattern that takes no letters; the default pattern allows a letter prefix."""
    from phopy.bibs import start_list
    from tests.bibs.conftest import conn_of, mark_running
    event = make_event(app, make_photographer(app)["id"])
    client = app.test_client()

    def keyboard():
        page = client.get(f"/e/{event['code']}").get_data(as_text=True)
        return re.search(r'<input[^>]*id="bib"[^>]*inputmode="(\w+)"', page).group(1)

    mark_running(app, event["id"])
    assert keyboard() == "text"  # A318 is a bib of the default pattern
    conn = conn_of(app)
    try:
        start_list.import_start_list(conn, app.config, event["id"], b"bib,name\n7,Ann\n42,Bo\n")
        assert keyboard() == "numeric"
        start_list.import_start_list(conn, app.config, event["id"], b"bib,name\n7,Ann\nA4,Bo\n")
        assert keyboard() == "text"
        conn.execute("DELETE FROM bib_start_list")
    finally:
        conn.close()
    mark_running(app, event["id"], pattern=r"\d{3,5}")
    assert keyboard() == "numeric"
