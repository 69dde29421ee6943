from tests.conftest import PASSWORD, login, make_photographer


def test_signup_logs_in_and_hashes_password(app, client):
    response = client.post("/auth/signup", data={"email": " Ann@Example.com ",
                                                 "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    from tests.conftest import db_rows
    row = db_rows(app, "SELECT email, password_hash FROM photographers")[0]
    assert row["email"] == "ann@example.com"
    assert PASSWORD not in row["password_hash"] and row["password_hash"].startswith(("scrypt", "pbkdf2"))


def test_signup_rejects_short_password_and_duplicate_email(app, client):
    short = client.post("/auth/signup", data={"email": "a@b.co", "password": "short"})
    assert short.status_code == 400 and b"at least 8" in short.data
    make_photographer(app, "dup@example.com")
    dup = client.post("/auth/signup", data={"email": "dup@example.com",
                                             "password": "another-pass-1"})
    # A taken email is not named as such (no account enumeration through sign-up).
    assert dup.status_code == 400 and b"already exists" not in dup.data
    assert b"could not create an account" in dup.data
    # Its owner signing up again is simply signed in.
    again = client.post("/auth/signup", data={"email": "dup@example.com", "password": PASSWORD})
    assert again.status_code == 302


def test_login_wrong_password_and_logout(app, client):
    make_photographer(app)
    bad = client.post("/auth/login", data={"email": "ann@example.com", "password": "nope-nope"})
    assert bad.status_code == 401 and b"Wrong email or password" in bad.data
    login(client)
    assert client.get("/dashboard/").status_code == 200
    client.post("/auth/logout")
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_api_needs_login_as_json(client):
    response = client.get("/api/task/nope")
    assert response.status_code == 401
    assert response.get_json()["error"] == "login_required"
