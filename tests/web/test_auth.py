from tests.conftest import PASSWORD, db_rows, login, make_photographer


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


def test_nobody_can_sign_up_with_the_line_bots_own_address(app, client, runner):
    """A LINE user's ``register`` makes ``line-<userId>@line.phopy.invalid``: an account made
    at that address beforehand would be handed to them (issue 19, 4b)."""
    victim = "line-u0123456789abcdef0123456789abcdef@line.phopy.invalid"
    spellings = [victim, victim.upper(), victim + ".", " " + victim + " ",
                 victim.replace("@line.", "@LINE.").replace(".invalid", ".INVALID."),
                 victim.replace("invalid", "inval\u200bid"),  # an invisible character
                 victim.replace("invalid", "ｉｎｖａｌｉｄ"),  # full-width letters
                 "someone@sub.line.phopy.invalid", "x@invalid"]
    for email in spellings:
        response = client.post("/auth/signup", data={"email": email,
                                                     "password": "attacker-pass-1"})
        assert response.status_code == 400, email
        assert b"valid email address" in response.data, email
    assert db_rows(app, "SELECT email FROM photographers") == []
    result = runner.invoke(args=["create-photographer", victim, "--password", "long-enough-1"])
    assert result.exit_code != 0 and "valid email" in result.output
    assert db_rows(app, "SELECT email FROM photographers") == []
    ok = client.post("/auth/signup", data={"email": "invalid@example.com",
                                           "password": "long-enough-1"})
    assert ok.status_code == 302  # only the domain is reserved
