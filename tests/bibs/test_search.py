"""Search by bib number through the event page and the API; bibs and faces helping
each other (real faces, real OCR)."""
from tests.bibs.conftest import mark_running
from tests.conftest import file_upload


def api_search(client, event, bib=None, selfie=None):
    data = {}
    if bib is not None:
        data["bib"] = bib
    if selfie is not None:
        data["selfies"] = [file_upload(selfie)]
    return client.post(f"/api/events/{event['id']}/search", data=data,
                       content_type="multipart/form-data")


def found(body):
    return {p["filename"]: p["found_by"] for p in body["photos"]}


def test_a_bib_finds_where_it_was_read_and_where_its_runner_s_face_appears(face_app, race):
    response = api_search(face_app.test_client(), race["event"], bib="4271")
    assert response.status_code == 200, response.data
    body = response.get_json()
    # a: bib read and its face; d: the bib only (face hidden); c: no bib, the same face
    assert found(body) == {"a_obama_4271.jpg": "both", "d_hidden_4271.jpg": "bib",
                           "c_obama_no_bib.jpg": "face"}
    assert body["indexing_complete"] is True and body["total_photos"] == 4
    assert all(p["download_url"] for p in body["photos"])
    # typed as a runner might: lower case, a '#' and spaces
    assert found(api_search(face_app.test_client(), race["event"], bib=" a 318 ").get_json()) \
        == {"b_biden_A318.jpg": "both"}
    # typed on a Thai phone keyboard (Thai digits) or a full-width one
    for typed in ("๔๒๗๑", "４２７１"):
        assert found(api_search(face_app.test_client(), race["event"], bib=typed).get_json()) \
            == found(body), typed


def test_a_selfie_also_finds_the_photos_of_the_bib_its_runner_wore(face_app, race, faces_dir):
    selfie = faces_dir / "face_recognition_examples" / "obama-720p.jpg"
    body = api_search(face_app.test_client(), race["event"], selfie=selfie).get_json()
    assert found(body) == {"a_obama_4271.jpg": "both", "c_obama_no_bib.jpg": "face",
                           "d_hidden_4271.jpg": "bib"}
    assert body["faces_in_selfies"] == [1]
    # a selfie and a bib together: one answer, each photo once
    body = api_search(face_app.test_client(), race["event"], bib="A318", selfie=selfie).get_json()
    assert found(body) == {"a_obama_4271.jpg": "both", "c_obama_no_bib.jpg": "face",
                           "d_hidden_4271.jpg": "bib", "b_biden_A318.jpg": "both"}


def test_something_that_is_not_a_bib_finds_no_runner_not_every_photo(face_app, race):
    client = face_app.test_client()
    for query in ("hello", "*", "%", "12345678", "9999"):
        response = api_search(client, race["event"], bib=query)
        assert response.status_code == 404, query
        assert response.get_json() == {"error": "no_runner",
                                       "message": "No runner with that number."}


def test_the_event_page_searches_by_bib(face_app, race):
    client = face_app.test_client()
    code = race["event"]["code"]
    page = client.get(f"/e/{code}").get_data(as_text=True)
    assert 'id="bib-form"' in page and "Search by bib number" in page
    response = client.post(f"/e/{code}/bib", data={"bib": "4271"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Photos of bib 4271" in html and "We found you in 3 photos." in html
    assert html.count('class="dl"') == 3 and 'id="zip-link"' in html
    response = client.post(f"/e/{code}/bib", data={"bib": "not a bib"})
    assert response.status_code == 404
    assert "No runner with that number." in response.get_data(as_text=True)


def test_bib_search_can_be_turned_off_per_event(face_app, race):
    mark_running(face_app, race["event"]["id"], search=False)
    client = face_app.test_client()
    assert 'id="bib-form"' not in client.get(f"/e/{race['event']['code']}").get_data(as_text=True)
    response = api_search(client, race["event"], bib="4271")
    assert response.status_code == 400 and response.get_json()["error"] == "bib_search_off"
    assert client.post(f"/e/{race['event']['code']}/bib", data={"bib": "4271"}).status_code == 400


def test_an_event_that_is_not_running_answers_as_before(face_app, owner, race_photos, faces_dir):
    from tests.conftest import add_files, index_all, make_event
    event = make_event(face_app, owner["id"], "Press Day")
    add_files(face_app, event["id"], [race_photos["a_obama_4271.jpg"]])
    index_all(face_app)
    client = face_app.test_client()
    assert 'id="bib-form"' not in client.get(f"/e/{event['code']}").get_data(as_text=True)
    body = api_search(client, event, selfie=faces_dir / "face_recognition_examples" /
                      "obama-720p.jpg").get_json()
    assert [sorted(p) for p in body["photos"]] == [
        ["distance", "download_url", "filename", "photo_id", "thumbnail_url"]]
    assert api_search(client, event, bib="4271").status_code == 400


def test_bib_search_with_the_setting_for_every_event(face_app, owner, race_photos):
    from tests.conftest import add_files, index_all, make_event
    face_app.config["BIB_SEARCH"] = True
    event = make_event(face_app, owner["id"], "Any Race")
    add_files(face_app, event["id"], [race_photos["b_biden_A318.jpg"]])
    index_all(face_app)
    body = api_search(face_app.test_client(), event, bib="A318").get_json()
    assert found(body) == {"b_biden_A318.jpg": "both"}
