"""Google sign-in never enters an account by email alone (issue 19, #4a and #5).

Every test goes through the real client library (google-auth-oauthlib, requests)
against the fake Google server, and through Phopy's real views.
"""
import pytest

from phopy import create_app
from tests.conftest import PASSWORD, db_rows, make_photographer, make_test_config
from tests.google.test_web import follow_google

VICTIM = "photographer@example.com"  # the fake Google's signed-in user


def signed_in_id(client):
    with client.session_transaction() as sess:
        return sess.get("photographer_id")


def google_sub_of(app, email):
    return db_rows(app, "SELECT google_sub FROM photographers WHERE email = ?",
                   (email,))[0]["google_sub"]


def test_an_account_signed_up_in_advance_is_not_entered_by_google(gapp, google):
    """The attacker signs up with the victim's address and a password; the victim's
    Google sign-in lands on the link page, signed in nowhere, and without the
    password nothing is bound."""
    make_photographer(gapp, email=VICTIM, password="attacker-pass-1")
    victim = gapp.test_client()
    response = follow_google(victim, google, "/auth/google/login")
    assert response.status_code == 302 and response.location.endswith("/auth/google/link")
    assert signed_in_id(victim) is None
    assert victim.get("/dashboard/").status_code == 302
    page = victim.get("/auth/google/link")
    assert page.status_code == 200 and VICTIM.encode() in page.data
    assert b'type="password"' in page.data
    wrong = victim.post("/auth/google/link", data={"password": "victim-guess-1"})
    assert wrong.status_code == 401 and b"Wrong email or password" in wrong.data
    assert signed_in_id(victim) is None and google_sub_of(gapp, VICTIM) is None
    # Signing in with Google again still does not enter it.
    follow_google(victim, google, "/auth/google/login")
    assert signed_in_id(victim) is None and google_sub_of(gapp, VICTIM) is None


def test_the_owner_links_once_with_the_password_then_google_is_enough(gapp, google):
    owner = make_photographer(gapp, email=VICTIM)
    client = gapp.test_client()
    follow_google(client, google, "/auth/google/login?next=/dashboard/keys")
    response = client.post("/auth/google/link", data={"password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/dashboard/keys")
    assert signed_in_id(client) == owner["id"]
    sub = google.state()["user"]["sub"]
    assert google_sub_of(gapp, VICTIM) == sub
    client.post("/auth/logout")
    response = follow_google(client, google, "/auth/google/login")
    assert response.location.endswith("/dashboard/") and signed_in_id(client) == owner["id"]
    # The password still works too.
    assert client.post("/auth/logout").status_code == 302
    assert client.post("/auth/login", data={"email": VICTIM,
                                            "password": PASSWORD}).status_code == 302


def test_the_link_page_needs_a_pending_google_sign_in(gapp, google):
    make_photographer(gapp, email=VICTIM)
    client = gapp.test_client()
    response = client.post("/auth/google/link", data={"password": PASSWORD})
    assert response.status_code == 302 and "/auth/login" in response.location
    assert signed_in_id(client) is None and google_sub_of(gapp, VICTIM) is None


def test_a_second_google_account_with_the_same_email_does_not_enter_nor_flip(gapp, google):
    """#5: bound to sub S1; Google account S2 (a recycled Workspace address) with the
    same verified email neither signs in nor changes the binding."""
    client = gapp.test_client()
    follow_google(client, google, "/auth/google/login")
    first = signed_in_id(client)
    s1 = google_sub_of(gapp, VICTIM)
    assert first and s1
    client.post("/auth/logout")
    google.call("POST", "/_fake/user", {"sub": "2000000000000000000042"})
    intruder = gapp.test_client()
    response = follow_google(intruder, google, "/auth/google/login")
    assert response.status_code == 302 and "/auth/login" in response.location
    assert signed_in_id(intruder) is None
    assert b"different Google account" in intruder.get("/auth/login").data
    assert google_sub_of(gapp, VICTIM) == s1
    assert db_rows(gapp, "SELECT COUNT(*) AS n FROM photographers")[0]["n"] == 1
    # The intruder cannot use the link page either (nothing pending for them).
    assert intruder.post("/auth/google/link", data={"password": "x" * 8}).status_code == 302
    google.call("POST", "/_fake/user", {"sub": s1})
    follow_google(client, google, "/auth/google/login")
    assert signed_in_id(client) == first


def test_a_password_account_bound_to_google_keeps_its_sub(gapp, google):
    """#5 after a password link: S2 with the same email does not reach the link page."""
    make_photographer(gapp, email=VICTIM)
    client = gapp.test_client()
    follow_google(client, google, "/auth/google/login")
    client.post("/auth/google/link", data={"password": PASSWORD})
    s1 = google_sub_of(gapp, VICTIM)
    google.call("POST", "/_fake/user", {"sub": "2000000000000000000043"})
    other = gapp.test_client()
    response = follow_google(other, google, "/auth/google/login")
    assert "/auth/login" in response.location and signed_in_id(other) is None
    assert google_sub_of(gapp, VICTIM) == s1


def test_an_unverified_google_email_signs_in_nowhere(gapp, google):
    make_photographer(gapp, email=VICTIM)
    google.call("POST", "/_fake/user", {"email_verified": False})
    client = gapp.test_client()
    response = follow_google(client, google, "/auth/google/login")
    assert "/auth/login" in response.location and signed_in_id(client) is None


@pytest.fixture
def guarded_app(tmp_path, google):
    """CSRF and rate limits on, as in production."""
    return create_app(make_test_config(tmp_path, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True,
                                       LOGIN_RATE_LIMIT="3 per minute", **google.config()))


def test_the_link_page_checks_csrf_and_is_rate_limited_like_login(guarded_app, google):
    make_photographer(guarded_app, email=VICTIM)
    client = guarded_app.test_client()
    follow_google(client, google, "/auth/google/login")
    assert client.post("/auth/google/link", data={"password": PASSWORD}).status_code == 400
    page = client.get("/auth/google/link").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    codes = [client.post("/auth/google/link",
                         data={"password": f"guess-{i:04d}", "csrf_token": token}).status_code
             for i in range(4)]
    assert codes[0] == 401 and codes[-1] == 429 and set(codes) <= {401, 429}
    assert client.post("/auth/google/link",
                       data={"password": PASSWORD, "csrf_token": token}).status_code == 429
    assert google_sub_of(guarded_app, VICTIM) is None
