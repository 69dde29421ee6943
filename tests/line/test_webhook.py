"""The webhook: signatures, redeliveries, replies and the operator's set-up."""
from tests.conftest import db_rows
from tests.fakes import line_webhook as hooks
from tests.line.conftest import ATTENDEE, GROUP, OPERATOR, STRANGER


def test_bad_or_missing_signature_is_refused_and_changes_nothing(line):
    event = hooks.follow(ATTENDEE)
    assert line.post(event, signature=False).status_code == 400
    assert line.post(event, secret="wrong-secret").status_code == 400
    assert line.run_jobs() == 0
    assert db_rows(line.app, "SELECT * FROM line_webhook_events") == []
    assert db_rows(line.app, "SELECT * FROM line_users") == []
    assert line.server.delivered() == []


def test_follow_asks_for_a_selfie_by_reply_in_the_users_language(line):
    line.send(hooks.follow(ATTENDEE))
    replies = line.server.delivered("reply")
    assert len(replies) == 1 and line.server.delivered("push") == []
    assert "selfie" in replies[0]["messages"][0]["text"]
    line.send(hooks.follow(STRANGER))  # no language in the profile: Thai
    assert "เซลฟี่" in line.last_texts()[0]


def test_redelivered_event_is_processed_once(line):
    event = hooks.text(hooks.user_source(OPERATOR), "ลงทะเบียน")
    line.send(event)
    again = dict(event, deliveryContext={"isRedelivery": True}, replyToken="another-token")
    line.send(again)
    assert line.texts() == ["✅ สำเร็จ! พิมพ์ 'เพิ่มกลุ่ม'"]
    assert len(db_rows(line.app, "SELECT * FROM photographers")) == 1


def test_operator_registers_adds_a_group_and_starts_one_event(line):
    line.send(hooks.text(hooks.user_source(OPERATOR), "register"))
    line.send(hooks.text(hooks.user_source(OPERATOR), "เพิ่มกลุ่ม"))
    steps = line.last_texts()[0]
    token = steps.split("Phopy เชื่อมต่อ ")[1].split()[0] if "Phopy เชื่อมต่อ " in steps \
        else steps.split("Phopy connect ")[1].split()[0]
    line.send(hooks.join(GROUP))
    assert "Phopy" in line.last_texts()[0]
    # Someone else cannot connect the group without the token.
    line.send(hooks.text(hooks.group_source(GROUP, STRANGER), "Phopy connect"))
    assert "✅" not in line.last_texts()[0]
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy เชื่อมต่อ"))
    assert line.last_texts() == ["✅ เชื่อมต่อแล้ว!"]
    assert db_rows(line.app, "SELECT used_at FROM line_tokens WHERE token = ?",
                   (token,))[0]["used_at"]
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy เริ่มงาน งานแต่งคุณเอ"))
    started = line.last_texts()[0]
    event = db_rows(line.app, "SELECT * FROM events")[0]
    assert event["name"] == "งานแต่งคุณเอ" and event["code"] in started
    assert "@phopy" in started and "7" in started
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy start Another one"))
    assert len(db_rows(line.app, "SELECT * FROM events")) == 1
    line.send(hooks.text(hooks.group_source(GROUP, STRANGER), "Phopy status"))
    assert event["code"] in line.last_texts()[0]
    assert line.client.get(f"/e/{event['code']}").status_code == 200


def test_dashboard_code_links_an_existing_account_once(line):
    from tests.conftest import login, make_photographer
    user = make_photographer(line.app)
    login(line.client)
    page = line.client.post("/dashboard/line").get_data(as_text=True)
    code = page.split('id="line-register-code">ลงทะเบียน ')[1].split("<")[0].strip()
    line.send(hooks.text(hooks.user_source(OPERATOR), f"ลงทะเบียน {code.lower()}"))
    assert user["email"] in line.last_texts()[0]
    line.send(hooks.text(hooks.user_source(STRANGER), f"register {code}"))
    assert "ไม่ถูกต้อง" in line.last_texts()[0]  # one time only
    assert len(db_rows(line.app, "SELECT * FROM photographers")) == 1
    line.send(hooks.text(hooks.user_source(OPERATOR), "add group"))
    line.send(hooks.join(GROUP))
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy connect"))
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy start Songkran party"))
    assert db_rows(line.app, "SELECT owner_id FROM events")[0]["owner_id"] == user["id"]
    assert "Songkran party" in line.client.get("/dashboard/").get_data(as_text=True)
    assert 'id="line-linked"' in line.client.get("/dashboard/line").get_data(as_text=True)


def test_group_token_expires_and_close_needs_an_open_event(line):
    line.send(hooks.text(hooks.user_source(OPERATOR), "register"))
    line.send(hooks.text(hooks.user_source(OPERATOR), "add group"))
    from phopy.data import get_database
    conn = get_database(line.app).connect()
    conn.execute("UPDATE line_tokens SET expires_at = expires_at - 3601")
    conn.close()
    line.send(hooks.join(GROUP))
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy connect"))
    assert "✅" not in line.last_texts()[0]
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy start Late party"))
    assert db_rows(line.app, "SELECT * FROM events") == []
    line.send(hooks.text(hooks.user_source(OPERATOR), "add group"))
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy connect"))
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy ปิดงาน"))
    assert "ยังไม่มีงาน" in line.last_texts()[0]


def test_line_off_without_settings(client):
    assert client.post("/line/webhook", data=b"{}").status_code == 404
    assert client.get("/").status_code == 200
