"""Sign in with Google, connect Drive, pick and link a folder: the web views."""
from urllib.parse import urlsplit

from phopy import create_app
from phopy.data import get_database
from phopy.data import google as google_db
from tests.conftest import index_all, login, make_event, make_photographer, make_test_config


def follow_google(client, google, start_path):
    """Start at ``start_path``, press Allow on the fake consent page, come back."""
    response = client.get(start_path)
    assert response.status_code == 302
    assert response.location.startswith(google.url + "/o/oauth2/auth?")
    assert "code_challenge_method=S256" in response.location
    back = urlsplit(google.consent(response.location))
    return client.get(back.path + "?" + back.query)


def test_google_sign_in_creates_then_finds_the_photographer(gapp, google):
    client = gapp.test_client()
    response = follow_google(client, google, "/auth/google/login")
    assert response.status_code == 302 and response.location.endswith("/dashboard/")
    assert client.get("/dashboard/").status_code == 200
    conn = get_database(gapp).connect()
    user = conn.one("SELECT * FROM photographers WHERE email = ?", ("photographer@example.com",))
    assert user["google_sub"] and user["password_hash"] is None
    client.post("/auth/logout")
    follow_google(client, google, "/auth/google/login")
    assert conn.scalar("SELECT COUNT(*) FROM photographers") == 1
    conn.close()


def test_a_forged_state_is_refused(gapp, google):
    client = gapp.test_client()
    client.get("/auth/google/login")
    response = client.get("/auth/google/callback?code=x&state=forged")
    assert response.status_code == 302 and "/auth/login" in response.location
    assert client.get("/dashboard/").status_code == 302


def test_without_credentials_google_is_hidden(tmp_path):
    app = create_app(make_test_config(tmp_path, GOOGLE_CLIENT_ID=None, GOOGLE_CLIENT_SECRET=None,
                                      GOOGLE_CLIENT_SECRETS_FILE=None))
    client = app.test_client()
    assert b"Sign in with Google" not in client.get("/auth/login").data
    assert client.get("/auth/google/login").status_code == 404


def test_connect_pick_link_sync_and_disconnect(gapp, google, event_folder):
    user = make_photographer(gapp)
    event = make_event(gapp, user["id"], "Press Day")
    client = gapp.test_client()
    login(client)
    assert b"Sign in with Google" in client.get("/auth/login").data
    page = client.get(f"/dashboard/events/{event['id']}/drive")
    assert b"Connect Google Drive" in page.data
    response = follow_google(client, google, f"/dashboard/events/{event['id']}/drive/connect")
    assert response.status_code == 302 and response.location.endswith("/drive")
    conn = get_database(gapp).connect()
    grant = google_db.get_grant(conn, user["id"])
    assert grant and not grant["refresh_token"].startswith("1//")  # encrypted at rest
    page = client.get(f"/dashboard/events/{event['id']}/drive")
    assert b"Press Day" in page.data  # the folder is listed in My Drive
    folder_id = google.folder_id(event_folder)
    bad = client.get(f"/dashboard/events/{event['id']}/drive/check?folder=../etc")
    assert bad.status_code == 400 and b"not a Google Drive folder" in bad.data
    check = client.get(f"/dashboard/events/{event['id']}/drive/check?folder="
                       f"https://drive.google.com/drive/folders/{folder_id}?usp=sharing")
    assert check.status_code == 200
    assert b"5 photos to import" in check.data and b"3 other files will be skipped" in check.data
    response = client.post(f"/dashboard/events/{event['id']}/drive/link",
                           data={"folder": folder_id, "subfolders": "0"})
    assert response.status_code == 302
    gapp.config["AUTO_INDEX"] = False
    index_all(gapp)
    status = client.get(f"/dashboard/events/{event['id']}/drive/status").get_json()
    assert status["sync"]["status"] == "completed"
    assert status["link"]["last_result"]["photos"] == 4  # day2/ left out
    page = client.get(f"/dashboard/events/{event['id']}")
    assert b"Sync now" in page.data and b"empty.jpg" in page.data

    client.post("/auth/google/disconnect")
    assert google_db.get_grant(conn, user["id"]) is None
    assert google.state()["refresh_tokens"] == 0  # revoked at Google
    page = client.get(f"/dashboard/events/{event['id']}")
    assert b"Reconnect Google Drive" in page.data
    conn.close()


def test_folder_browser_pages_breadcrumbs_and_shared_drives(gapp, google, owner, event_folder,
                                                           faces_dir):
    event = make_event(gapp, owner["id"], "Press Day")
    client = gapp.test_client()
    login(client)
    for i in range(55):
        google.call("POST", "/_fake/files", {"name": f"Album {i:02d}", "parent": "root",
                                             "mimeType": "application/vnd.google-apps.folder"})
    google.call("POST", "/_fake/files", {"name": "not-a-folder.jpg", "parent": "root",
                                         "content_b64": ""})
    google.call("POST", "/_fake/tree", {"folder": str(faces_dir / "no_faces"),
                                        "shared_drive": "Studio Team"})
    url = f"/dashboard/events/{event['id']}/drive"
    first = client.get(url).get_data(as_text=True)
    assert "Studio Team" in first and "Album 00" in first and "not-a-folder.jpg" not in first
    assert "Album 49" in first and "Album 50" not in first and "More folders" in first
    more = first.split('id="drive-more" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(more).get_data(as_text=True)
    assert "Album 50" in second and "Press Day" in second and "Album 00" not in second
    inside = client.get(f"{url}?parent={google.folder_id(event_folder)}").get_data(as_text=True)
    assert "day2" in inside and "Use this folder" in inside
    assert "Press Day</a>" in inside.split('id="drive-crumbs"')[1].split("</nav>")[0]
