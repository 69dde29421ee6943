"""Thai and English: Accept-Language, the switcher's cookie, translated errors, catalogs."""
import io
import subprocess
import sys

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from phopy.config import REPO_ROOT
from tests.conftest import file_upload, login, make_event, make_photographer

THAI = {"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"}
CATALOG = REPO_ROOT / "translations" / "th" / "LC_MESSAGES"


def test_accept_language_picks_thai_and_english(app, client):
    owner = make_photographer(app)
    event = make_event(app, owner["id"], "Songkran Run")
    thai = client.get(f"/e/{event['code']}", headers=THAI).data.decode()
    assert '<html lang="th"' in thai
    assert "ค้นหารูปของฉัน" in thai and "Find my photos" not in thai
    english = client.get(f"/e/{event['code']}", headers={"Accept-Language": "en-US,en"})
    assert "Find my photos" in english.data.decode()
    # No header at all: English.
    assert '<html lang="en"' in client.get("/").data.decode()


def test_switcher_cookie_overrides_the_browser(client):
    response = client.get("/lang/en?next=/events", headers=THAI)
    assert response.status_code == 302 and response.headers["Location"].endswith("/events")
    assert "phopy_lang=en" in response.headers["Set-Cookie"]
    page = client.get("/events", headers=THAI).data.decode()
    assert '<html lang="en"' in page and "No public events yet" in page
    client.get("/lang/th")
    page = client.get("/events", headers={"Accept-Language": "en"}).data.decode()
    assert '<html lang="th"' in page and "ยังไม่มีงานสาธารณะ" in page
    # An unknown code falls back to English; an outside ``next`` is not followed.
    response = client.get("/lang/xx?next=https://evil.example/")
    assert response.headers["Location"].endswith("/") and "evil" not in response.headers["Location"]


def test_domain_errors_and_flashes_come_out_in_thai(app, client):
    make_photographer(app)
    bad = client.post("/auth/login", data={"email": "ann@example.com", "password": "nope"},
                      headers=THAI)
    assert bad.status_code == 401 and "อีเมลหรือรหัสผ่านไม่ถูกต้อง" in bad.data.decode()
    missing = client.get("/go?code=ZZZZZZ", headers=THAI)
    assert missing.status_code == 404 and "ไม่พบงานที่ใช้รหัสนี้" in missing.data.decode()
    login(client)
    short = client.post("/dashboard/events/new", data={"name": "ab"}, headers=THAI)
    assert short.status_code == 400 and "ชื่องานต้องมีความยาว 3 ถึง 100" in short.data.decode()
    created = client.post("/dashboard/events/new", data={"name": "Loy Krathong"}, headers=THAI,
                          follow_redirects=True)
    assert "สร้างงานแล้ว" in created.data.decode()  # the flash, as a toast


def test_upload_rejections_are_translated_with_their_values(app, client):
    owner = make_photographer(app)
    event = make_event(app, owner["id"])
    login(client)
    response = client.post(f"/dashboard/events/{event['id']}/photos",
                           data={"photos": [(io.BytesIO(b"not a photo"), "notes.jpg")]},
                           headers={**THAI, "Accept": "application/json"},
                           content_type="multipart/form-data")
    body = response.get_json()
    assert response.status_code == 415
    assert body["message"] == "notes.jpg ไม่ใช่รูปภาพ JPEG, PNG, GIF, WebP หรือ HEIC"
    assert body["rejected"][0]["error"] == body["message"]
    assert body["rejected"][0]["code"] == "unsupported_file"
    english = client.post(f"/dashboard/events/{event['id']}/photos",
                          data={"photos": [(io.BytesIO(b""), "empty.jpg")]},
                          headers={"Accept": "application/json"},
                          content_type="multipart/form-data").get_json()
    assert english["message"] == "empty.jpg is empty."


def test_api_error_messages_follow_accept_language(face_app, faces_dir):
    client = face_app.test_client()
    owner = make_photographer(face_app)
    event = make_event(face_app, owner["id"])
    url = f"/api/events/{event['id']}/search"
    dog = faces_dir / "no_faces" / "dlib_dog.jpg"
    thai = client.post(url, data={"selfies": [file_upload(dog)]}, headers=THAI,
                       content_type="multipart/form-data")
    assert thai.status_code == 422 and thai.get_json()["error"] == "no_face"
    assert thai.get_json()["message"].startswith("เราไม่พบใบหน้าในเซลฟี่ของคุณ")
    english = client.post(url, data={"selfies": [file_upload(dog)]},
                          content_type="multipart/form-data")
    assert english.get_json()["message"].startswith("We could not find a face")
    too_many = client.post(url, data={"selfies": [file_upload(dog) for _ in range(4)]},
                           headers=THAI, content_type="multipart/form-data")
    assert too_many.status_code == 400
    assert too_many.get_json()["message"] == "กรุณาเลือกเซลฟี่ 1 ถึง 3 รูป"
    assert client.get("/api/nope", headers=THAI).get_json()["message"] == \
        "ไม่พบหน้าที่คุณต้องการ"


def key(message):
    """A catalog entry's msgid (the singular for plural entries)."""
    return message.id if isinstance(message.id, str) else message.id[0]


def text(message):
    """A catalog entry's translations as a tuple."""
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def test_thai_catalog_is_complete_and_compiled(tmp_path):
    """Every string in the code has a Thai translation, and the .mo matches the .po."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F",
                    "babel.cfg", "-k", "N_", "-k", "Message", "--ignore-dirs", ".*",
                    "-o", str(pot), "."], cwd=REPO_ROOT, check=True)
    with open(pot, "rb") as f:
        wanted = {key(m) for m in read_po(f) if m.id}
    with open(CATALOG / "messages.po", "rb") as f:
        po = read_po(f, locale="th")
    translated = {key(m): text(m) for m in po if m.id}
    untranslated = sorted(i for i in wanted if not all(translated.get(i) or [""]))
    assert not untranslated, f"strings without Thai translation: {untranslated}"
    with open(CATALOG / "messages.mo", "rb") as f:
        mo = read_mo(f)
    compiled = {key(m): text(m) for m in mo if m.id}
    assert compiled == translated, "translations/th is out of date: run pybabel compile"
