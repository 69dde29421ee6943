"""Reading bibs with the real OCR on generated race photos: what is kept, where, and
that reading again changes nothing (and keeps the photographer's fixes)."""
from phopy.bibs import reading, service
from tests.bibs.conftest import conn_of
from tests.conftest import add_files, db_rows, index_all, make_event


def readings(app, event_id):
    return db_rows(app, "SELECT r.*, p.filename FROM bib_readings r JOIN photos p "
                        "ON p.id = r.photo_id WHERE r.event_id = ? ORDER BY p.filename, r.bib",
                   (event_id,))


def test_indexing_a_running_event_reads_its_bibs_under_the_faces(face_app, race):
    rows = readings(face_app, race["event"]["id"])
    got = {(r["filename"], r["bib"]) for r in rows}
    assert got == {("a_obama_4271.jpg", "4271"), ("b_biden_A318.jpg", "A318"),
                   ("d_hidden_4271.jpg", "4271")}
    by_name = {r["filename"]: r for r in rows}
    faces = {r["photo_id"]: r["id"] for r in db_rows(face_app, "SELECT id, photo_id FROM faces")}
    # under the face that wore it; the runner whose face is hidden has none
    assert by_name["a_obama_4271.jpg"]["face_id"] == faces[race["photos"]["a_obama_4271.jpg"]]
    assert by_name["b_biden_A318.jpg"]["face_id"] == faces[race["photos"]["b_biden_A318.jpg"]]
    assert by_name["d_hidden_4271.jpg"]["face_id"] is None
    for r in rows:  # a box on the bib, below the chin, and a confident reading
        assert r["confidence"] > 0.8 and r["box_right"] > r["box_left"]
        assert r["searchable"] == 1 and r["review"] is None
    # the timing chip's small digits beside the bib (5512: the OCR reads them, they fit
    # the pattern) were dropped by the height rule; every photo was checked off once
    assert "5512" not in {r["bib"] for r in rows}
    assert db_rows(face_app, "SELECT COUNT(*) AS n FROM bib_scans")[0]["n"] == 4


def test_reading_again_is_idempotent_and_a_fix_wins_over_it(face_app, race):
    event_id = race["event"]["id"]
    before = {(r["photo_id"], r["bib"], r["box_left"]) for r in readings(face_app, event_id)}
    conn = conn_of(face_app)
    try:
        biden = next(r for r in readings(face_app, event_id) if r["bib"] == "A318")
        service.fix(conn, face_app.config, event_id, biden["id"], "use", "A319")
        reading.read_again(conn, event_id)
    finally:
        conn.close()
    index_all(face_app)
    after = readings(face_app, event_id)
    assert len(after) == len(before)
    fixed = next(r for r in after if r["filename"] == "b_biden_A318.jpg")
    assert (fixed["bib"], fixed["fixed"], fixed["text_read"]) == ("A319", 1, "A318")
    assert {(r["photo_id"], r["bib"]) for r in after if not r["fixed"]} == \
        {(p, b) for p, b, _l in before if b != "A318"}


def test_an_event_that_is_not_a_running_event_reads_nothing(face_app, owner, race_photos):
    event = make_event(face_app, owner["id"], "Press Day")
    add_files(face_app, event["id"], [race_photos["a_obama_4271.jpg"]])
    index_all(face_app)
    assert db_rows(face_app, "SELECT kind FROM tasks WHERE event_id = ?", (event["id"],)) == [
        {"kind": "index"}]
    assert readings(face_app, event["id"]) == []


def test_an_existing_event_is_read_once_marked_running(face_app, owner, race_photos):
    from tests.bibs.conftest import mark_running
    event = make_event(face_app, owner["id"], "Old Race")
    add_files(face_app, event["id"], [race_photos["b_biden_A318.jpg"]])
    index_all(face_app)
    mark_running(face_app, event["id"])
    index_all(face_app)
    assert [r["bib"] for r in readings(face_app, event["id"])] == ["A318"]


def test_a_bib_pattern_keeps_only_numbers_that_fit(face_app, owner, race_photos):
    from tests.bibs.conftest import mark_running
    event = make_event(face_app, owner["id"], "Digits Only")
    mark_running(face_app, event["id"], pattern=r"\d{4}")
    add_files(face_app, event["id"], [race_photos["a_obama_4271.jpg"],
                                      race_photos["b_biden_A318.jpg"]])
    index_all(face_app)
    assert [r["bib"] for r in readings(face_app, event["id"])] == ["4271"]


def test_one_bib_under_two_people_goes_to_the_review_queue(face_app, owner, race_photos,
                                                           engine, faces_dir):
    from tests.bibs.conftest import mark_running
    from tests.bibs.helpers import runner_photo
    event = make_event(face_app, owner["id"], "Shared Bib")
    mark_running(face_app, event["id"])
    other = race_photos["a_obama_4271.jpg"].parent / "e_biden_4271.jpg"
    other.write_bytes(runner_photo(engine, faces_dir / "face_recognition_examples/biden.jpg",
                                   "4271"))
    add_files(face_app, event["id"], [race_photos["a_obama_4271.jpg"], other])
    index_all(face_app)
    rows = readings(face_app, event["id"])
    assert [(r["bib"], r["review"]) for r in rows] == [("4271", "two_faces")] * 2
    conn = conn_of(face_app)
    try:
        assert {r["id"] for r in service.review_items(conn, event["id"])} == \
            {r["id"] for r in rows}
        service.fix(conn, face_app.config, event["id"], rows[1]["id"], "reject")
        assert [r["id"] for r in service.review_items(conn, event["id"])] == [rows[0]["id"]]
    finally:
        conn.close()


def test_the_height_rule_drops_small_digits_near_a_larger_number_only():
    def token(bib, left, top, height):
        return {"bib": bib, "confidence": 0.99, "box": (left, top, left + height * 2, top + height)}
    bib, chip = token("4271", 100, 400, 100), token("5512", 320, 480, 25)
    far = token("88", 2000, 100, 25)  # a small runner far away keeps their number
    assert [t["bib"] for t in reading._drop_small([bib, chip, far])] == ["4271", "88"]


def test_a_reading_belongs_to_the_face_whose_torso_holds_it():
    faces = [{"id": 1, "box_top": 100, "box_right": 200, "box_bottom": 200, "box_left": 100},
             {"id": 2, "box_top": 100, "box_right": 600, "box_bottom": 200, "box_left": 500}]
    regions = {f["id"]: reading.torso_region(f, (800, 1000)) for f in faces}
    tokens = [{"bib": "1", "box": (120, 320, 180, 360)}, {"bib": "2", "box": (520, 320, 580, 360)},
              {"bib": "3", "box": (120, 900, 180, 950)}]
    assert [t["face_id"] for t in reading._assign_faces(tokens, regions)] == [1, 2, None]


def test_a_reading_the_ocr_is_unsure_of_waits_for_review_and_counts_once_confirmed(
        face_app, owner, engine, faces_dir, tmp_path):
    """A bib blurred by motion is read with confidence between reading.REVIEW_FLOOR and
    reading.MIN_CONFIDENCE: stored, not searchable, in the review queue as low confidence;
    the photographer's one click makes the number find the photo."""
    from tests.bibs.conftest import mark_running
    from tests.bibs.helpers import runner_photo
    from tests.conftest import login
    photo = tmp_path / "blurred_4271.jpg"
    photo.write_bytes(runner_photo(engine, faces_dir / "face_recognition_examples" /
                                   "obama.jpg", "4271", blur=18))
    event = make_event(face_app, owner["id"], "Motion Run")
    mark_running(face_app, event["id"])
    add_files(face_app, event["id"], [photo])
    index_all(face_app)
    rows = readings(face_app, event["id"])
    # (the blurred digits may well be misread -- 6271 or 271 is what this OCR reads --
    # which is why such a reading is not searched until someone looks)
    assert [(r["bib"].isdigit(), r["searchable"], r["review"]) for r in rows] == [
        (True, 0, "low_confidence")]
    assert reading.REVIEW_FLOOR <= rows[0]["confidence"] < reading.MIN_CONFIDENCE
    client = face_app.test_client()
    api = f"/api/events/{event['id']}/search"
    for bib in {"4271", rows[0]["bib"]}:  # not searchable yet
        assert client.post(api, data={"bib": bib}).status_code == 404
    login(client)
    review = client.get(f"/dashboard/events/{event['id']}/bibs/review").get_data(as_text=True)
    assert "Low confidence" in review
    response = client.post(f"/dashboard/events/{event['id']}/bibs/review/{rows[0]['id']}",
                           data={"action": "use", "bib": "4271"}, follow_redirects=True)
    assert "Fixed: 4271." in response.get_data(as_text=True)
    body = client.post(api, data={"bib": "4271"}).get_json()
    assert [p["filename"] for p in body["photos"]] == ["blurred_4271.jpg"]
