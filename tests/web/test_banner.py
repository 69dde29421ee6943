"""The event banner on the dashboard: PNG only, composited on downloads, removable."""
import io

from tests.conftest import add_files, db_rows, login, make_event, make_photographer
from tests.web.banner_helpers import assert_has_banner, banner_png


def signed_download(app, event_id, photo_id):
    from phopy.extensions import get_link_signer
    from phopy.services import links
    with app.app_context():
        return f"/p/{links.sign_photo(get_link_signer(app), event_id, photo_id)}/download"


def test_banner_upload_download_and_removal(app, client, faces_dir):
    user = make_photographer(app)
    event = make_event(app, user["id"])
    photo_path = faces_dir / "group_photos" / "fr_kit_with_rose.jpg"
    add_files(app, event["id"], [photo_path], queue=False)
    photo = db_rows(app, "SELECT * FROM photos")[0]
    url = f"/dashboard/events/{event['id']}/banner"
    login(client)
    jpeg = photo_path.read_bytes()
    page = client.post(url, data={"banner": (io.BytesIO(jpeg), "logo.png")},
                       content_type="multipart/form-data", follow_redirects=True,
                       headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert "PNG" in page and db_rows(app, "SELECT banner_key FROM events")[0]["banner_key"] is None
    download = signed_download(app, event["id"], photo["id"])
    assert client.get(download).data == jpeg
    client.post(url, data={"banner": (io.BytesIO(banner_png()), "logo.png"),
                           "banner_position": "bottom-right"},
                content_type="multipart/form-data")
    response = client.get(download)
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert_has_banner(response.data, photo_path)
    assert client.get(f"/dashboard/events/{event['id']}/banner.png").data == banner_png()
    client.post(url, data={"action": "remove"})
    assert client.get(download).data == jpeg
