"""The bot's smaller guards: wrong codes per LINE user, whose group photos an event
takes, opaque gallery links, events without a userId."""
import base64
import json
import re
import zlib

from tests.conftest import db_rows
from tests.fakes import line_webhook as hooks
from tests.line.conftest import ATTENDEE, GROUP, OPERATOR, STRANGER
from tests.line.test_flow import (OBAMA_PHOTOS, register_selfie, send_group_photos,
                                  set_up_group_event)

TOO_MANY = "That was a lot of wrong codes. Please wait a while, then type your event code again."


def say(line, user_id, text):
    """The first message of the bot's answer."""
    line.send(hooks.text(hooks.user_source(user_id), text))
    return line.server.delivered()[-1]["messages"][0]["text"]


def test_wrong_codes_are_limited_per_line_user(line):
    event = set_up_group_event(line)
    line.app.config["CODE_LOOKUP_RATE_LIMIT"] = "3 per minute"
    line.send(hooks.follow(ATTENDEE))
    for n in range(3):
        assert say(line, ATTENDEE, f"WRONG{n}").startswith("No event has the code")
    assert say(line, ATTENDEE, "WRONG9") == TOO_MANY
    assert say(line, ATTENDEE, event["code"]) == TOO_MANY  # not even looked up
    assert db_rows(line.app, "SELECT * FROM line_participants") == []
    # Another LINE user is not held back.
    line.send(hooks.follow(STRANGER))
    assert say(line, STRANGER, event["code"]).startswith("✅")
    # A minute later the window is over.
    from phopy.data import get_database
    conn = get_database(line.app).connect()
    conn.execute("UPDATE line_users SET code_misses_since = code_misses_since - 61")
    conn.close()
    assert say(line, ATTENDEE, event["code"]) == f"✅ You joined {event['name']}"


def test_the_default_limit_is_the_webs(line):
    from phopy.line.attendees import _code_limit
    assert _code_limit(line.app.config) == (30, 60)


def group_image(line, faces_dir, user_id, message_id, name=OBAMA_PHOTOS[0]):
    line.server.add_content(message_id, (faces_dir / "group_photos" / name).read_bytes())
    line.send(hooks.image(hooks.group_source(GROUP, user_id), message_id))


def test_an_event_takes_only_its_operators_photos_unless_told_otherwise(line, faces_dir):
    event = set_up_group_event(line)
    group_image(line, faces_dir, STRANGER, "m1")
    assert db_rows(line.app, "SELECT * FROM photos") == []
    assert line.server.requests("/v2/bot/message/m1/content") == []  # never downloaded
    # Only an operator changes it.
    line.send(hooks.text(hooks.group_source(GROUP, STRANGER), "Phopy photos everyone"))
    assert "ผู้จัดงาน" in line.last_texts()[0]
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy รูปจาก"))
    assert "เฉพาะรูปของผู้จัดงาน" in line.last_texts(2)[0]
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy รูปจาก ทุกคน"))
    assert line.last_texts() == ["📷 ตอนนี้รูปที่ทุกคนส่งในกลุ่มนี้จะเข้าไปในงาน"]
    assert db_rows(line.app, "SELECT photos_from FROM line_event_groups") == \
        [{"photos_from": "everyone"}]
    group_image(line, faces_dir, STRANGER, "m2")
    assert [p["event_id"] for p in db_rows(line.app, "SELECT * FROM photos")] == [event["id"]]
    # Back to operators only: the member's next photo is left out again.
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy photos operators"))
    group_image(line, faces_dir, STRANGER, "m3", OBAMA_PHOTOS[1])
    assert len(db_rows(line.app, "SELECT * FROM photos")) == 1
    group_image(line, faces_dir, OPERATOR, "m4", OBAMA_PHOTOS[1])
    assert len(db_rows(line.app, "SELECT * FROM photos")) == 2


def _payload(token):
    """What a signed token carries, readable by anyone (itsdangerous may zlib it)."""
    compressed = token.startswith(".")
    data = token.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def test_gallery_links_do_not_carry_the_user_id(line, faces_dir):
    event = set_up_group_event(line)
    line.send(hooks.follow(ATTENDEE))
    register_selfie(line, faces_dir)
    line.send(hooks.text(hooks.user_source(ATTENDEE), event["code"]))
    send_group_photos(line, faces_dir, OBAMA_PHOTOS)
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy close"))
    flex = [d["messages"][0] for d in line.server.delivered("push", ATTENDEE)
            if d["messages"][0]["type"] == "flex"]
    url = flex[0]["contents"]["footer"]["contents"][0]["action"]["uri"]
    token = url.rsplit("/", 1)[1]
    payload = _payload(token)
    assert ATTENDEE not in url and ATTENDEE not in json.dumps(payload)
    assert ATTENDEE.lower() not in json.dumps(payload).lower()
    assert set(payload) == {"e", "p"}
    page = line.client.get(url.replace("http://phopy.test", ""))
    assert page.status_code == 200
    assert len(re.findall(r'href="(/p/[^"]+/download)"', page.get_data(as_text=True))) == 2
    # A link of the old form (the userId in clear) no longer opens anything, nor does a
    # well-signed link for someone who was not found.
    from itsdangerous import URLSafeTimedSerializer
    secret = line.app.config["SECRET_KEY"]
    old = URLSafeTimedSerializer(secret, salt="phopy-line-gallery").dumps(
        {"e": event["id"], "u": ATTENDEE})
    assert line.client.get(f"/line/gallery/{old}").status_code == 404
    from phopy.line.gallery_links import sign_gallery_token
    nobody = sign_gallery_token(secret, event["id"], STRANGER)
    assert line.client.get(f"/line/gallery/{nobody}").status_code == 404


def without_user(event):
    event["source"].pop("userId", None)
    return event


def test_events_without_a_user_id_are_handled_gracefully(line, faces_dir):
    event = set_up_group_event(line)
    before = len(db_rows(line.app, "SELECT * FROM line_outbox"))
    for kind in (hooks.text(hooks.user_source(ATTENDEE), "ZZZZZZ"),
                 hooks.text(hooks.user_source(ATTENDEE), event["code"]),
                 hooks.text(hooks.user_source(ATTENDEE), "delete my data"),
                 hooks.follow(ATTENDEE), hooks.unfollow(ATTENDEE),
                 hooks.image(hooks.user_source(ATTENDEE), "selfie-x")):
        line.send(without_user(kind))
    tasks = db_rows(line.app, "SELECT kind, status, error FROM tasks WHERE status != "
                    "'completed'")
    assert tasks == []
    assert len(db_rows(line.app, "SELECT * FROM line_outbox")) == before
    assert db_rows(line.app, "SELECT * FROM line_participants") == []
    # In a group, there is still a chat to answer: what needs no user works, the rest
    # is refused, and a photo from nobody known is an operator's photo of nobody's.
    line.send(hooks.text(hooks.group_source(GROUP), "Phopy status"))
    assert event["code"] in line.last_texts()[0]
    line.send(hooks.text(hooks.group_source(GROUP), "Phopy close"))
    assert "ผู้จัดงาน" in line.last_texts()[0]
    line.send(hooks.text(hooks.group_source(GROUP), "Phopy connect"))
    assert "✅" not in line.last_texts()[0]
    group_image(line, faces_dir, None, "anon-1")
    assert db_rows(line.app, "SELECT * FROM photos") == []
    assert db_rows(line.app, "SELECT kind FROM tasks WHERE status != 'completed'") == []
