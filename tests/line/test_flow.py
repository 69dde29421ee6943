"""The whole LINE flow on real photos: operator, group, attendee, photos, pushes,
auto close, gallery. Plus the failure cases around photos and pushes."""
import hashlib
import io
import re
import zipfile

import pytest

from tests.conftest import ENGINE_NAMES, db_rows, login, make_photographer
from tests.web.banner_helpers import assert_has_banner, banner_png
from tests.fakes import line_webhook as hooks
from tests.line.conftest import ATTENDEE, GROUP, OPERATOR, STRANGER

OBAMA_PHOTOS = ["fr_two_people.jpg", "fr_obama_and_biden.jpg"]
OTHER_PHOTOS = ["fr_kit_with_rose.jpg"]
FOUND = "📸 Found you in"


def group_text(user_id, text):
    return hooks.text(hooks.group_source(GROUP, user_id), text)


def set_up_group_event(line, name="Obama visit 2026", web_account=False):
    """Operator registers, adds and connects the group, starts an event; return it.

    With ``web_account`` the operator links an existing dashboard account (logged in
    on ``line.client``) with the dashboard's one-time code.
    """
    line.send(hooks.follow(OPERATOR))
    if web_account:
        make_photographer(line.app)
        login(line.client)
        page = line.client.post("/dashboard/line").get_data(as_text=True)
        code = re.search(r'id="line-register-code">ลงทะเบียน (\w+)<', page)[1]
        line.send(hooks.text(hooks.user_source(OPERATOR), f"ลงทะเบียน {code}"))
    else:
        line.send(hooks.text(hooks.user_source(OPERATOR), "ลงทะเบียน"))
    line.send(hooks.text(hooks.user_source(OPERATOR), "เพิ่มกลุ่ม"))
    line.send(hooks.join(GROUP))
    line.send(group_text(OPERATOR, "Phopy connect"))
    line.send(group_text(OPERATOR, f"Phopy start {name}"))
    return db_rows(line.app, "SELECT * FROM events WHERE name = ?", (name,))[0]


def said(message):
    """What a message says: its text, or a Flex message's alternative text."""
    return message.get("text") or message.get("altText")


def is_found_you(message):
    """The "found you" message: its Flex bubble's button opens the gallery page."""
    return message["type"] == "flex" and said(message).startswith("📸")


def register_selfie(line, faces_dir, user_id=ATTENDEE, photo="obama2.jpg"):
    message_id = f"selfie-{user_id[-6:]}-{photo.replace('/', '-')}"
    line.server.add_content(message_id,
                            (faces_dir / "face_recognition_examples" / photo).read_bytes())
    line.send(hooks.image(hooks.user_source(user_id), message_id))


def send_group_photos(line, faces_dir, names, start=0):
    for n, name in enumerate(names, start):
        message_id = f"img{n}"
        line.server.add_content(message_id, (faces_dir / "group_photos" / name).read_bytes())
        line.post(hooks.image(hooks.group_source(GROUP, OPERATOR), message_id,
                              {"id": "set1", "index": n + 1, "total": len(names) + start}))
    line.run_jobs()


def age_event(line, event_id, minutes):
    """Pretend the event's last photo came ``minutes`` ago (time passing)."""
    from phopy.data import get_database
    conn = get_database(line.app).connect()
    try:
        conn.execute("UPDATE line_event_groups SET last_photo_at = last_photo_at - ?, "
                     "opened_at = opened_at - ? WHERE event_id = ?",
                     (minutes * 60, minutes * 60, event_id))
    finally:
        conn.close()


def run_auto_close(line):
    from phopy.data import get_database
    from phopy.jobs.queue import enqueue
    conn = get_database(line.app).connect()
    try:
        enqueue(conn, "line_auto_close", {})
    finally:
        conn.close()
    line.run_jobs()


def test_auto_close_speaks_the_starting_operators_language(line):
    line.server.add_profile(OPERATOR, "Oat the photographer", "en")
    event = set_up_group_event(line, name="Fun run")
    age_event(line, event["id"], 61)
    run_auto_close(line)
    assert db_rows(line.app, "SELECT closed_at FROM events")[0]["closed_at"] is not None
    summary = [t for t in line.texts("push", GROUP) if "wrapped up" in t]
    assert summary == [f"✅ Fun run is wrapped up 📊 0 photos / 0 people. "
                       f"Add @phopy and type {event['code']}"]
    assert not [t for t in line.texts("push", GROUP) if "สรุปแล้ว" in t]


@pytest.mark.slow
@pytest.mark.parametrize("line_engine", ENGINE_NAMES, indirect=True)
def test_whole_flow_from_group_photos_to_the_gallery(line, faces_dir, line_engine):
    event = set_up_group_event(line, web_account=True)
    saved = line.client.post(f"/dashboard/events/{event['id']}/banner", data={
        "banner": (io.BytesIO(banner_png()), "logo.png"), "banner_position": "bottom-right"},
        content_type="multipart/form-data", follow_redirects=True)
    assert 'id="banner-preview"' in saved.get_data(as_text=True)
    line.client.post("/auth/logout")
    line.send(hooks.follow(ATTENDEE))
    register_selfie(line, faces_dir)
    assert "Selfie saved" in line.last_texts()[0]
    assert db_rows(line.app, "SELECT face_encoding FROM line_users WHERE user_id = ?",
                   (ATTENDEE,))[0]["face_encoding"]
    line.send(hooks.text(hooks.user_source(ATTENDEE), event["code"].lower()))
    assert line.last_texts() == [f"✅ You joined {event['name']}"]

    send_group_photos(line, faces_dir, OBAMA_PHOTOS + OTHER_PHOTOS)
    photos = db_rows(line.app, "SELECT * FROM photos WHERE event_id = ?", (event["id"],))
    assert len(photos) == 3 and {p["source"] for p in photos} == {"line"}
    found = [t for t in line.texts("push", ATTENDEE) if t.startswith(FOUND)]
    assert found == [f"{FOUND} {event['name']}. The summary comes later."]
    # The same photo sent again is stored once; nobody is told twice.
    send_group_photos(line, faces_dir, OBAMA_PHOTOS[:1], start=10)
    assert len(db_rows(line.app, "SELECT * FROM photos")) == 3
    line.send(group_text(OPERATOR, "Phopy status"))
    assert "3 รูป" in line.last_texts()[0]

    # Not idle long enough: stays open. Idle past LINE_AUTO_CLOSE_MINUTES: closed.
    run_auto_close(line)
    assert db_rows(line.app, "SELECT closed_at FROM events")[0]["closed_at"] is None
    age_event(line, event["id"], 61)
    run_auto_close(line)
    run_auto_close(line)  # a second run sends nothing more
    summary = [t for t in line.texts("push", GROUP) if "สรุปแล้ว" in t]
    assert summary == [f"✅ งาน {event['name']} สรุปแล้ว 📊 3 รูป / 1 คน, "
                       f"แอด @phopy กรอก {event['code']}"]
    flex = [d["messages"][0] for d in line.server.delivered("push", ATTENDEE)
            if d["messages"][0]["type"] == "flex" and not is_found_you(d["messages"][0])]
    assert len(flex) == 1 and flex[0]["altText"] == "We found 2 photos of you"
    url = flex[0]["contents"]["footer"]["contents"][0]["action"]["uri"]
    assert len(line.texts("push", ATTENDEE)) == 2  # "found you" and the Flex, nothing else

    page = line.client.get(url.replace("http://phopy.test", ""))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert [r["status"] for r in db_rows(line.app, "SELECT status FROM line_images")] == \
        ["stored"] * 4
    downloads = re.findall(r'href="(/p/[^"]+/download)"', html)
    assert len(downloads) == 2
    from PIL import Image
    paths = [faces_dir / "group_photos" / n for n in OBAMA_PHOTOS]
    originals = {Image.open(p).size: p for p in paths}
    got = [line.client.get(u).data for u in downloads]
    zip_url = re.search(r'id="zip-link" href="([^"]+)"', html)[1].replace("&amp;", "&")
    archive = zipfile.ZipFile(io.BytesIO(line.client.get(zip_url).data))
    got += [archive.read(n) for n in archive.namelist()]
    sizes = [Image.open(io.BytesIO(data)).size for data in got]
    assert sorted(sizes) == sorted(list(originals) * 2)  # Obama's two photos, single and ZIP
    for data, size in zip(got, sizes):
        assert_has_banner(data, originals[size])
    from phopy.extensions import get_storage
    for row in db_rows(line.app, "SELECT storage_key, content_hash FROM photos"):
        data = get_storage(line.app).read(row["storage_key"])
        assert hashlib.sha256(data).hexdigest() == row["content_hash"]  # originals untouched
    # A forged gallery link shows nothing.
    assert line.client.get(url.replace("http://phopy.test", "") + "x").status_code == 404


def test_photo_in_an_unlinked_group_is_never_processed(line, faces_dir):
    line.send(hooks.join(GROUP))
    line.server.add_content("img-x", (faces_dir / "group_photos" / OBAMA_PHOTOS[0]).read_bytes())
    line.send(hooks.image(hooks.group_source(GROUP, STRANGER), "img-x"))
    assert db_rows(line.app, "SELECT * FROM photos") == []
    assert line.server.requests("/v2/bot/message/img-x/content") == []


def test_selfie_without_a_face_gets_a_clear_reply(line, faces_dir):
    line.send(hooks.follow(ATTENDEE))
    line.server.add_content("dog", (faces_dir / "no_faces" / "dlib_dog.jpg").read_bytes())
    line.send(hooks.image(hooks.user_source(ATTENDEE), "dog"))
    assert "could not find a face" in line.last_texts()[0]
    assert db_rows(line.app, "SELECT face_encoding FROM line_users")[0]["face_encoding"] is None


def test_wrong_code_says_so_and_joins_nothing(line):
    line.send(hooks.follow(ATTENDEE))
    line.send(hooks.text(hooks.user_source(ATTENDEE), "ZZZZZZ"))
    assert line.last_texts() == ["No event has the code ZZZZZZ. Check the code and try again."]
    assert db_rows(line.app, "SELECT * FROM line_participants") == []


def test_joining_after_the_photos_checks_them_at_once_and_delete_my_data(line, faces_dir):
    event = set_up_group_event(line)
    send_group_photos(line, faces_dir, OBAMA_PHOTOS)
    line.send(hooks.follow(ATTENDEE))
    register_selfie(line, faces_dir)
    line.send(hooks.text(hooks.user_source(ATTENDEE), event["code"]))
    assert said(line.server.delivered("reply")[-1]["messages"][1]).startswith(FOUND)
    assert len(db_rows(line.app, "SELECT * FROM line_matches")) == 2
    line.send(hooks.text(hooks.user_source(ATTENDEE), "delete my data"))
    assert "deleted" in line.last_texts()[0]
    assert db_rows(line.app, "SELECT * FROM line_participants") == []
    assert db_rows(line.app, "SELECT * FROM line_matches") == []
    assert db_rows(line.app, "SELECT face_encoding FROM line_users WHERE user_id = ?",
                   (ATTENDEE,))[0]["face_encoding"] is None


def test_a_new_selfie_searches_joined_events_again_and_replaces_old_matches(line, faces_dir):
    event = set_up_group_event(line)
    send_group_photos(line, faces_dir, OBAMA_PHOTOS + OTHER_PHOTOS)
    line.send(hooks.follow(ATTENDEE))
    register_selfie(line, faces_dir, photo="knn_examples/train/kit_harington/john1.jpeg")
    line.send(hooks.text(hooks.user_source(ATTENDEE), event["code"]))
    by_hash = {r["content_hash"]: r["id"] for r in db_rows(line.app, "SELECT * FROM photos")}
    photo_id = lambda name: by_hash[hashlib.sha256(  # noqa: E731
        (faces_dir / "group_photos" / name).read_bytes()).hexdigest()]
    kit = photo_id(OTHER_PHOTOS[0])
    matched = "SELECT photo_id FROM line_matches WHERE user_id = ? ORDER BY photo_id"
    assert [r["photo_id"] for r in db_rows(line.app, matched, (ATTENDEE,))] == [kit]
    # The wrong selfie is replaced by the attendee's own: found in Obama's photos at
    # once, and Kit's photo leaves their gallery.
    register_selfie(line, faces_dir)
    texts = [said(m) for m in line.server.delivered("reply")[-1]["messages"]]  # one reply
    assert texts[0].startswith("✅ Selfie saved") and texts[1:] == [
        f"{FOUND} {event['name']}. The summary comes later."]
    obama = sorted(photo_id(name) for name in OBAMA_PHOTOS)
    assert [r["photo_id"] for r in db_rows(line.app, matched, (ATTENDEE,))] == obama
    # Once the event has closed (its summary is out), a new selfie still updates the
    # gallery's matches but announces nothing.
    age_event(line, event["id"], 61)
    run_auto_close(line)
    register_selfie(line, faces_dir, photo="knn_examples/train/kit_harington/john2.jpeg")
    texts = [said(m) for m in line.server.delivered("reply")[-1]["messages"]]
    assert len(texts) == 1 and texts[0].startswith("✅ Selfie saved")
    assert [r["photo_id"] for r in db_rows(line.app, matched, (ATTENDEE,))] == [kit]


def test_unfollow_deletes_face_data_and_participations(line, faces_dir):
    event = set_up_group_event(line)
    line.send(hooks.follow(ATTENDEE))
    register_selfie(line, faces_dir)
    line.send(hooks.text(hooks.user_source(ATTENDEE), event["code"]))
    line.send(hooks.unfollow(ATTENDEE))
    assert db_rows(line.app, "SELECT * FROM line_participants") == []
    assert db_rows(line.app, "SELECT face_encoding FROM line_users WHERE user_id = ?",
                   (ATTENDEE,))[0]["face_encoding"] is None


@pytest.mark.parametrize("failure", [429, 500])
def test_push_failures_are_retried_and_delivered_once(line, faces_dir, failure):
    event = set_up_group_event(line)
    line.send(hooks.follow(ATTENDEE))
    register_selfie(line, faces_dir)
    line.send(hooks.text(hooks.user_source(ATTENDEE), event["code"]))
    line.server.state.push_failures.extend([failure, failure])
    send_group_photos(line, faces_dir, OBAMA_PHOTOS[:1])
    pushes = [r for r in line.server.requests("/v2/bot/message/push")
              if r["body"]["to"] == ATTENDEE]
    assert len(pushes) >= 2  # it was retried
    assert len({r["headers"]["X-Line-Retry-Key"] for r in pushes}) == 1  # with one key
    assert [t for t in line.texts("push", ATTENDEE) if t.startswith(FOUND)] == \
        [f"{FOUND} {event['name']}. The summary comes later."]
    assert db_rows(line.app, "SELECT status, via FROM line_outbox WHERE to_id = ? "
                   "AND purpose = 'found_you'",
                   (ATTENDEE,)) == [{"status": "sent", "via": "push"}]


def test_message_content_gone_is_recorded_not_retried_forever(line, faces_dir):
    event = set_up_group_event(line)
    line.server.state.content_404 = True
    line.send(hooks.image(hooks.group_source(GROUP, OPERATOR), "gone-1"))
    assert db_rows(line.app, "SELECT status FROM line_images") == [{"status": "gone"}]
    assert db_rows(line.app, "SELECT * FROM photos WHERE event_id = ?", (event["id"],)) == []
    line.send(hooks.follow(ATTENDEE))
    line.send(hooks.image(hooks.user_source(ATTENDEE), "gone-2"))
    assert "send it again" in line.last_texts()[0]
