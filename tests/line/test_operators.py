"""LINE operators of an account: the dashboard lists and unlinks every one; the bot
lets one leave."""
import re

from phopy import create_app
from tests.conftest import PASSWORD, db_rows, login, make_photographer, make_test_config
from tests.fakes import line_webhook as hooks
from tests.line.conftest import GROUP, OPERATOR, SECRET, STRANGER, Line

CODE_RE = r'id="line-register-code">ลงทะเบียน (\w+)<'


def say(line, user_id, text):
    line.send(hooks.text(hooks.user_source(user_id), text))
    return line.last_texts()[0]


def in_group(line, user_id, text):
    line.send(hooks.text(hooks.group_source(GROUP, user_id), text))
    return line.last_texts()[0]


def link_two_operators(line):
    """Two dashboard codes link OPERATOR and STRANGER to Ann's web account."""
    ann = make_photographer(line.app)
    login(line.client)
    for user_id in (OPERATOR, STRANGER):
        code = re.search(CODE_RE, line.client.post("/dashboard/line").get_data(as_text=True))[1]
        say(line, user_id, f"register {code}")
    return ann


def listed(line):
    page = line.client.get("/dashboard/line").get_data(as_text=True)
    return re.findall(r'<li data-user="(U\w+)">', page), page


def test_dashboard_lists_every_operator_and_unlinks_any(line):
    ann = link_two_operators(line)
    users, page = listed(line)
    assert users == [OPERATOR, STRANGER]
    assert "Oat the photographer" in page and "Somchai" in page
    # STRANGER asked for a group token before being unlinked: it dies with the link.
    token = re.search(r"Phopy เชื่อมต่อ (\w+)", say(line, STRANGER, "เพิ่มกลุ่ม"))[1]
    say(line, OPERATOR, "add group")
    line.send(hooks.join(GROUP))
    in_group(line, OPERATOR, "Phopy connect")
    done = line.client.post(f"/dashboard/line/operators/{STRANGER}/unlink",
                            follow_redirects=True)
    assert done.status_code == 200 and "Somchai" in done.get_data(as_text=True)
    assert listed(line)[0] == [OPERATOR]
    assert db_rows(line.app, "SELECT photographer_id FROM line_users WHERE user_id = ?",
                   (STRANGER,))[0]["photographer_id"] is None
    # The unlinked operator can no longer add groups, connect, start or close.
    assert say(line, STRANGER, "add group") == "พิมพ์ 'ลงทะเบียน' ก่อน"
    assert "✅" not in in_group(line, STRANGER, f"Phopy connect {token}")
    assert "ผู้จัดงาน" in in_group(line, STRANGER, "Phopy start Stolen party")
    assert db_rows(line.app, "SELECT * FROM events") == []
    in_group(line, OPERATOR, "Phopy start Ann's party")
    assert "ผู้จัดงาน" in in_group(line, STRANGER, "Phopy close")
    assert [e["owner_id"] for e in db_rows(line.app, "SELECT * FROM events "
                                           "WHERE closed_at IS NULL")] == [ann["id"]]
    # Unlinking again, or someone who is not this account's operator: 404.
    assert line.client.post(f"/dashboard/line/operators/{STRANGER}/unlink").status_code == 404
    assert line.client.post("/dashboard/line/operators/Unobody/unlink").status_code == 404


def test_only_the_owner_unlinks_an_operator(line):
    link_two_operators(line)
    line.client.post("/auth/logout")
    make_photographer(line.app, "bob@example.com")
    login(line.client, "bob@example.com")
    assert listed(line)[0] == []
    assert line.client.post(f"/dashboard/line/operators/{OPERATOR}/unlink").status_code == 404
    line.client.post("/auth/logout")
    assert line.client.post(f"/dashboard/line/operators/{OPERATOR}/unlink").status_code == 302
    assert len(db_rows(line.app, "SELECT * FROM line_users WHERE photographer_id "
                       "IS NOT NULL")) == 2


def test_unlinking_needs_the_csrf_token(tmp_path, line_server):
    app = create_app(make_test_config(
        tmp_path, WTF_CSRF_ENABLED=True, LINE_CHANNEL_SECRET=SECRET,
        LINE_CHANNEL_ACCESS_TOKEN="test-token", LINE_API_HOST=line_server.url))
    line = Line(app, line_server)
    make_photographer(app)
    token_of = lambda page: re.search(  # noqa: E731
        r'name="csrf-token" content="([^"]+)"', page).group(1)
    token = token_of(line.client.get("/auth/login").get_data(as_text=True))
    line.client.post("/auth/login", data={"email": "ann@example.com", "password": PASSWORD,
                                          "csrf_token": token})
    token = token_of(line.client.get("/dashboard/line").get_data(as_text=True))
    page = line.client.post("/dashboard/line", data={"csrf_token": token})
    say(line, OPERATOR, f"register {re.search(CODE_RE, page.get_data(as_text=True))[1]}")
    url = f"/dashboard/line/operators/{OPERATOR}/unlink"
    assert line.client.post(url).status_code == 400
    assert listed(line)[0] == [OPERATOR]
    assert line.client.post(url, data={"csrf_token": token}).status_code == 302
    assert listed(line)[0] == []


def test_the_bot_lets_an_operator_leave(line):
    ann = link_two_operators(line)
    answer = say(line, STRANGER, "ยกเลิกลงทะเบียน")
    assert ann["email"] in answer and "ลงทะเบียน" in answer
    assert listed(line)[0] == [OPERATOR]
    assert say(line, STRANGER, "add group") == "พิมพ์ 'ลงทะเบียน' ก่อน"
    assert say(line, STRANGER, "unregister") == "พิมพ์ 'ลงทะเบียน' ก่อน"  # not one any more
    line.server.add_profile(OPERATOR, "Oat the photographer", "en")
    line.send(hooks.follow(OPERATOR))
    assert say(line, OPERATOR, "unregister").startswith(
        f"You no longer run events of the Phopy account {ann['email']} from LINE.")
    assert listed(line)[0] == []
    # Registering again (no code) makes a LINE-only account, not Ann's.
    say(line, OPERATOR, "register")
    assert db_rows(line.app, "SELECT photographer_id FROM line_users WHERE user_id = ?",
                   (OPERATOR,))[0]["photographer_id"] != ann["id"]
