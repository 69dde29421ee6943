"""Who owns a LINE group: a group linked to one account never moves to another without
that account's consent (one of its operators disconnects it)."""
import re

from tests.conftest import db_rows, login, make_photographer
from tests.fakes import line_webhook as hooks
from tests.line.conftest import GROUP, OPERATOR, STRANGER

OTHER_GROUP = "C" + "e5" * 16


def say(line, user_id, text):
    line.send(hooks.text(hooks.user_source(user_id), text))
    return line.last_texts()[0]


def in_group(line, user_id, text, group=GROUP):
    line.send(hooks.text(hooks.group_source(group, user_id), text))
    return line.last_texts()[0]


def group_token(line, user_id):
    """'add group' to the bot; return the token it gives."""
    return re.search(r"Phopy (?:connect|เชื่อมต่อ) (\w+)", say(line, user_id, "add group"))[1]


def owner_of(line, group=GROUP):
    return db_rows(line.app, "SELECT photographer_id, linked_by FROM line_groups "
                   "WHERE group_id = ?", (group,))[0]


def account_of(line, user_id):
    return db_rows(line.app, "SELECT photographer_id FROM line_users WHERE user_id = ?",
                   (user_id,))[0]["photographer_id"]


def set_up_a(line, name="Wedding of A"):
    """Operator A connects the group and starts an event (the issue's scenario)."""
    say(line, OPERATOR, "register")
    group_token(line, OPERATOR)
    line.send(hooks.join(GROUP))
    assert in_group(line, OPERATOR, "Phopy connect") == "✅ เชื่อมต่อแล้ว!"
    in_group(line, OPERATOR, f"Phopy start {name}")
    return db_rows(line.app, "SELECT * FROM events WHERE name = ?", (name,))[0]


def test_a_member_registered_as_operator_cannot_take_the_group_over(line):
    event = set_up_a(line)
    a_account = account_of(line, OPERATOR)
    # Member B registers one-to-one, asks for a group token and types it in A's group.
    say(line, STRANGER, "register")
    b_account = account_of(line, STRANGER)
    assert b_account != a_account
    token = group_token(line, STRANGER)
    answer = in_group(line, STRANGER, f"Phopy connect {token}")
    assert "✅" not in answer and "another Phopy account" not in answer  # Thai profile
    assert "บัญชี Phopy อื่น" in answer
    assert owner_of(line) == {"photographer_id": a_account, "linked_by": OPERATOR}
    # The refused token was not used up: B can still connect a group of B's own.
    assert db_rows(line.app, "SELECT used_at FROM line_tokens WHERE token = ?",
                   (token,))[0]["used_at"] is None
    # B runs nothing in A's group: close, start and disconnect are refused.
    assert "ผู้จัดงาน" in in_group(line, STRANGER, "Phopy close")
    assert db_rows(line.app, "SELECT closed_at FROM events WHERE id = ?",
                   (event["id"],))[0]["closed_at"] is None
    in_group(line, STRANGER, "Phopy disconnect")
    assert owner_of(line)["photographer_id"] == a_account
    assert [e["owner_id"] for e in db_rows(line.app, "SELECT owner_id FROM events")] == \
        [a_account]
    # A still runs the group.
    assert "Wedding of A" in in_group(line, OPERATOR, "Phopy status")
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy close"))
    assert db_rows(line.app, "SELECT closed_at FROM events WHERE id = ?",
                   (event["id"],))[0]["closed_at"] is not None
    # B's token still connects a group nobody owns.
    line.send(hooks.join(OTHER_GROUP))
    assert in_group(line, STRANGER, f"Phopy connect {token}", OTHER_GROUP) == \
        "✅ เชื่อมต่อแล้ว!"
    assert owner_of(line, OTHER_GROUP)["photographer_id"] == b_account


def test_another_web_accounts_operator_is_refused_too(line):
    """B linked to an existing web account (the dashboard's code) is refused the same."""
    set_up_a(line)
    make_photographer(line.app, "bob@example.com")
    login(line.client, "bob@example.com")
    page = line.client.post("/dashboard/line").get_data(as_text=True)
    code = re.search(r'id="line-register-code">ลงทะเบียน (\w+)<', page)[1]
    say(line, STRANGER, f"register {code}")
    group_token(line, STRANGER)
    assert "บัญชี Phopy อื่น" in in_group(line, STRANGER, "Phopy connect")
    assert owner_of(line)["linked_by"] == OPERATOR
    assert "ผู้จัดงาน" in in_group(line, STRANGER, "Phopy start Bob's party")
    assert len(db_rows(line.app, "SELECT * FROM events")) == 1


def test_the_same_account_connects_again_and_a_second_operator_runs_the_group(line):
    make_photographer(line.app)
    login(line.client)
    codes = []
    for _ in range(2):
        page = line.client.post("/dashboard/line").get_data(as_text=True)
        codes.append(re.search(r'id="line-register-code">ลงทะเบียน (\w+)<', page)[1])
    say(line, OPERATOR, f"register {codes[0]}")
    say(line, STRANGER, f"register {codes[1]}")
    assert account_of(line, OPERATOR) == account_of(line, STRANGER)
    group_token(line, OPERATOR)
    line.send(hooks.join(GROUP))
    in_group(line, OPERATOR, "Phopy connect")
    # The account's other operator connects it again: fine, the account stays.
    token = group_token(line, STRANGER)
    assert in_group(line, STRANGER, f"Phopy connect {token}") == "✅ เชื่อมต่อแล้ว!"
    assert owner_of(line) == {"photographer_id": account_of(line, OPERATOR),
                              "linked_by": STRANGER}
    # Either operator of the account runs it.
    in_group(line, OPERATOR, "Phopy start Songkran")
    assert "สรุปแล้ว" in in_group(line, STRANGER, "Phopy close")
    # And the same operator connecting again is fine too.
    group_token(line, OPERATOR)
    assert in_group(line, OPERATOR, "Phopy connect") == "✅ เชื่อมต่อแล้ว!"


def test_after_its_operator_disconnects_it_another_account_may_connect(line):
    event = set_up_a(line)
    say(line, STRANGER, "register")
    # Not while the event is open.
    assert "Phopy ปิดงาน" in in_group(line, OPERATOR, "Phopy ยกเลิกการเชื่อมต่อ")
    assert owner_of(line)["photographer_id"] == account_of(line, OPERATOR)
    in_group(line, OPERATOR, "Phopy close")
    assert in_group(line, OPERATOR, "Phopy disconnect").startswith("ยกเลิกการเชื่อมต่อกลุ่มนี้")
    assert owner_of(line) == {"photographer_id": None, "linked_by": None}
    # A's closed event stays A's; B may now connect the group and start B's own.
    token = group_token(line, STRANGER)
    assert in_group(line, STRANGER, f"Phopy connect {token}") == "✅ เชื่อมต่อแล้ว!"
    assert owner_of(line)["photographer_id"] == account_of(line, STRANGER)
    in_group(line, STRANGER, "Phopy start B's party")
    owners = {e["name"]: e["owner_id"] for e in db_rows(line.app, "SELECT * FROM events")}
    assert owners == {event["name"]: account_of(line, OPERATOR),
                      "B's party": account_of(line, STRANGER)}
    # A no longer runs it.
    assert "ผู้จัดงาน" in in_group(line, OPERATOR, "Phopy close")
    assert "ผู้จัดงาน" in in_group(line, OPERATOR, "Phopy disconnect")
