"""A photographer deletes their account: every event with its photos and files, their API
keys, signed-in browsers and links go; nobody else's data changes; a wrong confirmation
deletes nothing."""
import io

from PIL import Image

from phopy.data import get_database
from phopy.services import api_keys
from tests.conftest import PASSWORD, add_files, db_rows, login, make_event, make_photographer


def _photo(tmp_path, name, color):
    path = tmp_path / name
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


def _key(app, owner_id):
    conn = get_database(app).connect()
    try:
        return api_keys.create_key(conn, owner_id, "script")[1]
    finally:
        conn.close()


def _count(app, table, where="1 = 1", params=()):
    return db_rows(app, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params)[0]["n"]


def test_deleting_an_account_takes_its_events_files_keys_and_sessions(app, client, tmp_path):
    ann = make_photographer(app, "ann@example.com")
    bob = make_photographer(app, "bob@example.com")
    anns = [make_event(app, ann["id"], f"Ann's event {n}") for n in range(2)]
    bobs = make_event(app, bob["id"], "Bob's wedding")
    for n, event in enumerate(anns + [bobs]):
        add_files(app, event["id"], [_photo(tmp_path, f"p{n}.jpg", "red")], queue=False)
    key, bobs_key = _key(app, ann["id"]), _key(app, bob["id"])
    data = tmp_path / "data"
    assert all(any((data / "originals" / e["id"]).iterdir()) for e in anns)
    login(client, "ann@example.com")
    page = client.get("/dashboard/account/")
    assert page.status_code == 200 and "2 events" in page.get_data(as_text=True)

    wrong = client.post("/dashboard/account/delete", data={"password": "not-my-password"})
    assert wrong.status_code == 400 and "Nothing was deleted" in wrong.get_data(as_text=True)
    assert _count(app, "events") == 3 and _count(app, "photographers") == 2

    gone = client.post("/dashboard/account/delete", data={"password": PASSWORD})
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/")
    assert _count(app, "photographers", "id = ?", (ann["id"],)) == 0
    assert _count(app, "events", "owner_id = ?", (ann["id"],)) == 0
    for table in ("api_keys", "login_sessions"):
        assert _count(app, table, "photographer_id = ?", (ann["id"],)) == 0
    assert _count(app, "photos") == 1  # Bob's
    for event in anns:
        assert not (data / "originals" / event["id"]).exists()
        assert not (data / "thumbnails" / event["id"]).exists()
    # the browser, the key and the password no longer open anything
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/api/events", headers={"Authorization": f"Bearer {key}"}
                      ).status_code == 401
    assert client.post("/auth/login", data={"email": "ann@example.com",
                                            "password": PASSWORD}).status_code == 401
    # Bob's account, event, files and key are untouched
    assert any((data / "originals" / bobs["id"]).iterdir())
    listed = client.get("/api/events", headers={"Authorization": f"Bearer {bobs_key}"})
    assert listed.status_code == 200 and "Bob's wedding" in listed.get_data(as_text=True)


def test_an_account_without_a_password_confirms_with_its_email(app, client):
    ann = make_photographer(app, "ann@example.com")
    login(client, "ann@example.com")
    conn = get_database(app).connect()
    try:  # as a Google sign-in account has it: no password of its own
        with conn.transaction():
            conn.execute("UPDATE photographers SET password_hash = NULL WHERE id = ?",
                         (ann["id"],))
    finally:
        conn.close()
    page = client.get("/dashboard/account/").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' not in page
    wrong = client.post("/dashboard/account/delete", data={"email": "bob@example.com"})
    assert wrong.status_code == 400 and _count(app, "photographers") == 1
    gone = client.post("/dashboard/account/delete", data={"email": " Ann@Example.com "})
    assert gone.status_code == 303 and _count(app, "photographers") == 0


def test_the_account_page_needs_a_signed_in_photographer(client):
    assert client.get("/dashboard/account/").status_code == 302
    assert client.post("/dashboard/account/delete", data={"password": PASSWORD}
                       ).status_code == 302
