"""Runners on LINE: a bib number typed after joining a running event finds its photos
(the web's search by bib, real OCR on the generated race photos), is remembered so
photos read later push "found you" once, and goes with every deletion path."""
import re
from datetime import datetime, timedelta

from tests.bibs.conftest import mark_running, race_photos  # noqa: F401  (a fixture)
from tests.conftest import PASSWORD, add_files, db_rows, login, make_event, make_photographer
from tests.fakes import line_webhook as hooks
from tests.line.conftest import ATTENDEE

FOUND = "📸 Found you in"


def typed(line, text, user_id=ATTENDEE):
    line.send(hooks.text(hooks.user_source(user_id), text))


def running_event(line, photos=(), search=True, name="Chiang Mai Marathon"):
    """A running event of a web account, with these race photos indexed and read."""
    owner = db_rows(line.app, "SELECT * FROM photographers") or [make_photographer(line.app)]
    event = make_event(line.app, owner[0]["id"], name)
    mark_running(line.app, event["id"], search=search)
    if photos:
        add_files(line.app, event["id"], list(photos))
        line.run_jobs()
    return event


def joined(line, event, user_id=ATTENDEE):
    line.send(hooks.follow(user_id))
    typed(line, event["code"], user_id)


def last_reply(line):
    """The messages of the last reply (the fake's replies name no recipient)."""
    return line.server.delivered("reply")[-1]["messages"]


def bib_rows(line, user_id=ATTENDEE):
    return [(r["event_id"], r["bib"]) for r in db_rows(
        line.app, "SELECT event_id, bib FROM line_bibs WHERE user_id = ? ORDER BY bib",
        (user_id,))]


def matched(line, event_id, user_id=ATTENDEE):
    names = {r["id"]: r["filename"] for r in db_rows(
        line.app, "SELECT id, filename FROM photos WHERE event_id = ?", (event_id,))}
    return sorted(names[r["photo_id"]] for r in db_rows(
        line.app, "SELECT photo_id FROM line_matches WHERE event_id = ? AND user_id = ?",
        (event_id, user_id)))


def found_you_pushes(line, user_id=ATTENDEE):
    return [t for t in line.texts("push", user_id) if t.startswith(FOUND)]


def test_a_typed_bib_answers_with_its_photos_and_why_each_was_found(line, race_photos):  # noqa: F811,E501
    event = running_event(line, race_photos.values())
    joined(line, event)
    assert [m.get("text") for m in last_reply(line)] == [
        f"✅ You joined {event['name']}",
        "🏃 This is a running event: you can also type your bib number.",
        "Send me a selfie first, so I can find you in the photos."]
    typed(line, "4271")
    [answer] = last_reply(line)  # the reply token's answer: free, no push
    assert line.server.delivered("push", ATTENDEE) == []
    assert answer["altText"] == f"🏃 Bib 4271 in {event['name']}: 3 photos"
    lines = [c["text"] for c in answer["contents"]["body"]["contents"]]
    # a: read and its face; d: the number only (face hidden); c: the face that wore it
    assert lines[1:] == ["• Your number and your face: 1", "• Your number: 1",
                         "• The face that wore your number: 1"]
    assert matched(line, event["id"]) == ["a_obama_4271.jpg", "c_obama_no_bib.jpg",
                                          "d_hidden_4271.jpg"]
    assert bib_rows(line) == [(event["id"], "4271")]
    url = answer["contents"]["footer"]["contents"][0]["action"]["uri"]
    html = line.client.get(url.replace("http://phopy.test", "")).get_data(as_text=True)
    assert len(re.findall(r'href="(/p/[^"]+/download)"', html)) == 3
    # typed as a runner might, lower case: the letter-prefixed bib of the other runner
    typed(line, "a318")
    assert last_reply(line)[0]["altText"] == f"🏃 Bib A318 in {event['name']}: 1 photo"
    assert bib_rows(line) == [(event["id"], "4271"), (event["id"], "A318")]
    # typed on a Thai keyboard's digits: the same runner, not a new number
    typed(line, "๔๒๗๑")
    assert last_reply(line)[0]["altText"] == f"🏃 Bib 4271 in {event['name']}: 3 photos"
    assert bib_rows(line) == [(event["id"], "4271"), (event["id"], "A318")]
    # a bib never read is "not yet", remembered for later; a short number is a bib too
    typed(line, "42")
    assert [m["text"] for m in last_reply(line)] == [
        f"🏃 No photos of bib 42 in {event['name']} yet. I will tell you when I find you."]
    assert found_you_pushes(line) == []  # answered by reply, never pushed


def test_photos_read_later_push_found_you_once_not_again_on_re_reading(line, race_photos):  # noqa: F811,E501
    from phopy.bibs.reading import read_again
    from phopy.data import get_database
    event = running_event(line)
    joined(line, event)
    typed(line, "4271")
    assert [m["text"] for m in last_reply(line)] == [
        f"🏃 No photos of bib 4271 in {event['name']} yet. I will tell you when I find you."]
    add_files(line.app, event["id"], [race_photos["b_biden_A318.jpg"]])
    line.run_jobs()
    assert found_you_pushes(line) == [] and matched(line, event["id"]) == []  # not theirs
    add_files(line.app, event["id"], [race_photos["d_hidden_4271.jpg"]])
    line.run_jobs()
    assert found_you_pushes(line) == [f"{FOUND} {event['name']}. The summary comes later."]
    assert matched(line, event["id"]) == ["d_hidden_4271.jpg"]
    conn = get_database(line.app).connect()
    try:
        read_again(conn, event["id"])
    finally:
        conn.close()
    add_files(line.app, event["id"], [race_photos["a_obama_4271.jpg"]])
    line.run_jobs()
    assert len(found_you_pushes(line)) == 1  # told once; the new photo joins the gallery
    assert matched(line, event["id"]) == ["a_obama_4271.jpg", "d_hidden_4271.jpg"]


def test_with_bib_search_off_a_number_is_not_a_bib(line, race_photos):  # noqa: F811
    event = running_event(line, [race_photos["a_obama_4271.jpg"]], search=False)
    joined(line, event)
    assert len(last_reply(line)) == 2  # joined, send a selfie: no word of bibs
    typed(line, "4271")
    assert line.last_texts() == ["No event has the code 4271. Check the code and try again."]
    assert bib_rows(line) == [] and matched(line, event["id"]) == []


def test_a_number_from_someone_in_no_running_event_is_a_wrong_code(line):
    wrong = "No event has the code 4271. Check the code and try again."
    line.send(hooks.follow(ATTENDEE))
    typed(line, "4271")  # joined nothing
    assert line.last_texts() == [wrong]
    owner = make_photographer(line.app)
    plain = make_event(line.app, owner["id"], "Office party")  # not a running event
    joined(line, plain)
    typed(line, "4271")
    assert line.last_texts() == [wrong]
    typed(line, "42")  # too short for a code: help, as before
    assert line.last_texts()[0].startswith("Send me a selfie, then type your event code")
    assert db_rows(line.app, "SELECT * FROM line_bibs") == []


# -- deletion -------------------------------------------------------------------
def remembered(line):
    """A running event (no photos) whose attendee typed a bib; the event."""
    event = running_event(line)
    joined(line, event)
    typed(line, "4271")
    assert bib_rows(line) == [(event["id"], "4271")]
    return event


def test_delete_my_data_deletes_the_bibs_typed(line):
    remembered(line)
    typed(line, "delete my data")
    assert bib_rows(line) == []


def test_unfollow_deletes_the_bibs_typed(line):
    remembered(line)
    line.send(hooks.unfollow(ATTENDEE))
    assert bib_rows(line) == []


def test_the_face_data_purge_deletes_the_bibs_typed(line):
    from phopy.data import get_database
    from phopy.services import retention
    event = remembered(line)
    login(line.client)
    line.client.post(f"/dashboard/events/{event['id']}/face-data", data={"action": "close"})
    closed = datetime.fromisoformat(db_rows(line.app, "SELECT closed_at FROM events "
                                            "WHERE id = ?", (event["id"],))[0]["closed_at"])
    days = line.app.config["FACE_RETENTION_DAYS"]
    conn = get_database(line.app).connect()
    try:
        retention.purge_due(conn, days, now=closed + timedelta(days=days, minutes=-1))
        assert bib_rows(line) == [(event["id"], "4271")]  # kept till then
        assert retention.purge_due(conn, days, now=closed + timedelta(days=days, minutes=1)) \
            == [event["id"]]
    finally:
        conn.close()
    assert bib_rows(line) == []


def test_deleting_the_event_deletes_the_bibs_typed(line):
    event = remembered(line)
    login(line.client)
    assert line.client.post(f"/dashboard/events/{event['id']}/delete").status_code == 302
    assert bib_rows(line) == []


def test_deleting_the_account_deletes_the_bibs_typed_for_its_events(line):
    remembered(line)
    login(line.client)
    gone = line.client.post("/dashboard/account/delete", data={"password": PASSWORD})
    assert gone.status_code == 303
    assert bib_rows(line) == []
