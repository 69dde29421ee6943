""""Is this you?" on LINE, through the real line-bot-sdk and the fake LINE API, on real
photos with the default engine: the borderline faces come as a carousel of face crops
with postback buttons; "This is me" adds the photo to the attendee's photos and the
confirmed face finds more; "Not me" takes a photo out for good; replays count once."""
import re

import pytest

from tests.conftest import ENGINE_NAMES, db_rows
from tests.fakes import line_webhook as hooks
from tests.line.conftest import ATTENDEE, GROUP, OPERATOR, STRANGER
from tests.line.test_flow import register_selfie, set_up_group_event
from tests.web.test_answers import OBAMA, OTHERS, api_search, bands, candidates

pytestmark = pytest.mark.parametrize("line_engine", [ENGINE_NAMES[0]], indirect=True)


@pytest.fixture
def event(line, faces_dir):
    """A LINE group event with five photos of Obama and three of others, bands set from
    the selfie's real distances as in tests/web/test_answers.py: sure of one, unsure of
    two, blind to two that only a confirmed face reaches."""
    event = set_up_group_event(line)
    files = list({**OBAMA, **OTHERS}.values())
    for n, path in enumerate(files):
        line.server.add_content(f"img{n}", (faces_dir / path).read_bytes())
        line.post(hooks.image(hooks.group_source(GROUP, OPERATOR), f"img{n}",
                              {"id": "set1", "index": n + 1, "total": len(files)}))
    line.run_jobs()
    app = line.app
    settings = app.extensions["phopy_engine_settings"]
    bands(app, settings, tolerance=0.01, borderline=0.6)
    wide = api_search(line.client, event, faces_dir)
    seen = sorted((c["distance"], name) for name, c in candidates(app, wide).items())
    assert len(seen) == len(OBAMA) and not [n for _d, n in seen if n in OTHERS], seen
    d = [distance for distance, _name in seen]
    bands(app, settings, tolerance=(d[0] + d[1]) / 2, borderline=(d[2] + d[3]) / 2)
    event["order"] = [name for _d, name in seen]
    return event


def matched(line):
    return {r["filename"] for r in db_rows(
        line.app, "SELECT p.filename FROM line_matches m JOIN photos p ON p.id = m.photo_id "
                  "WHERE m.user_id = ?", (ATTENDEE,))}


def carousels(line):
    """The bubbles of every carousel the bot sent (replies carry no recipient; only the
    attendee is asked), newest last."""
    return [message["contents"]["contents"]
            for entry in line.server.delivered() for message in entry["messages"]
            if message.get("type") == "flex" and message["contents"]["type"] == "carousel"]


def buttons(bubble):
    return {b["action"]["data"].split("|")[1]: b["action"]["data"]
            for b in bubble["footer"]["contents"]}


def face_photo(line, face_id):
    return db_rows(line.app, "SELECT p.filename FROM faces f JOIN photos p ON "
                             "p.id = f.photo_id WHERE f.id = ?", (int(face_id),))[0]["filename"]


def join(line, faces_dir, event, user=ATTENDEE):
    line.send(hooks.follow(user))
    register_selfie(line, faces_dir, user_id=user, photo="obama.jpg")
    line.send(hooks.text(hooks.user_source(user), event["code"]))


def test_borderline_faces_come_as_crops_and_a_confirmed_face_finds_more(line, faces_dir,
                                                                       event):
    join(line, faces_dir, event)
    order = event["order"]
    assert matched(line) == {order[0]}  # sure of one
    [bubbles] = carousels(line)
    asked = {face_photo(line, buttons(b)["me"].split("|")[3]): b for b in bubbles}
    assert set(asked) == set(order[1:3])  # unsure of two, no stranger, crops only
    for bubble in bubbles:
        url = bubble["hero"]["url"]
        assert url.startswith(line.app.config["PUBLIC_BASE_URL"].rstrip("/") + "/f/")
        crop = line.client.get(re.sub(r"^https?://[^/]+", "", url))  # LINE fetches it
        assert crop.status_code == 200 and crop.mimetype == "image/jpeg"
    assert "/p/" not in str(bubbles)  # never the photo itself

    for name in order[1:3]:  # he confirms both: each joins his photos
        line.send(hooks.postback(hooks.user_source(ATTENDEE), buttons(asked[name])["me"]))
        assert any(t.startswith("✅ Added to your photos") for t in line.last_texts(3))
    assert set(order[:3]) <= matched(line)
    # what his confirmed faces reach: more of his photos, found or asked about, never a
    # stranger's
    offered = {face_photo(line, buttons(b)["me"].split("|")[3])
               for c in carousels(line)[1:] for b in c}
    assert (matched(line) | offered) & set(order[3:]), (matched(line), offered)
    assert not (matched(line) | offered) & set(OTHERS)
    gallery = db_rows(line.app, "SELECT COUNT(*) AS n FROM line_matches WHERE user_id = ?",
                      (ATTENDEE,))[0]["n"]
    assert gallery == len(matched(line))


def test_not_me_takes_a_photo_out_for_good_and_replays_count_once(line, faces_dir, event):
    join(line, faces_dir, event)
    [bubbles] = carousels(line)
    data = buttons(bubbles[0])["not_me"]
    name = face_photo(line, data.split("|")[3])
    line.send(hooks.postback(hooks.user_source(ATTENDEE), data))
    assert "not shown to you again" in line.last_texts()[0]
    line.send(hooks.postback(hooks.user_source(ATTENDEE), data))  # a second tap
    assert "already answered" in line.last_texts()[0]
    line.send(hooks.postback(hooks.user_source(ATTENDEE), data.replace("not_me", "me")))
    assert "already answered" in line.last_texts()[0] and name not in matched(line)
    totals = db_rows(line.app, "SELECT SUM(rejected) AS r FROM answer_totals")[0]["r"]
    assert totals == 1
    # joining again (the same session, answers kept) never asks about it again
    line.send(hooks.text(hooks.user_source(ATTENDEE), event["code"]))
    offered = {face_photo(line, buttons(b)["me"].split("|")[3])
               for c in carousels(line)[1:] for b in c}
    assert name not in offered and name not in matched(line)
    # "delete my data" deletes the session too (the selfie's encoding and the answers)
    line.send(hooks.text(hooks.user_source(ATTENDEE), "delete my data"))
    assert db_rows(line.app, "SELECT id FROM search_sessions WHERE owner = ?",
                   ("line:" + ATTENDEE,)) == []
    assert db_rows(line.app, "SELECT COUNT(*) AS n FROM search_answers")[0]["n"] == 0


def test_postbacks_from_someone_else_or_forged_change_nothing(line, faces_dir, event):
    join(line, faces_dir, event)
    [bubbles] = carousels(line)
    data = buttons(bubbles[0])["me"]
    before = matched(line)
    line.send(hooks.follow(STRANGER))
    line.send(hooks.postback(hooks.user_source(STRANGER), data))  # not his session
    assert "หมดอายุ" in line.last_texts()[0]  # his profile is Thai: "has expired"
    session, face = data.split("|")[2:]
    hidden = db_rows(line.app, "SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id "
                               "WHERE p.filename = ?", (event["order"][-1],))[0]["id"]
    line.send(hooks.postback(hooks.user_source(ATTENDEE), f"phopy-answer|me|{session}|{hidden}"))
    assert "not shown to you" in line.last_texts()[0]
    line.send(hooks.postback(hooks.user_source(ATTENDEE), "something|else"))  # not ours
    line.send(hooks.postback(hooks.group_source(GROUP, ATTENDEE), data))       # in a group
    assert matched(line) == before
    assert db_rows(line.app, "SELECT COUNT(*) AS n FROM search_answers")[0]["n"] == 0


def found_you_links(line):
    """The gallery URLs of every "found you" message the bot sent, newest last."""
    return [button["action"]["uri"]
            for entry in line.server.delivered() for message in entry["messages"]
            if message.get("type") == "flex" and message["contents"]["type"] == "bubble"
            and message["altText"].startswith("📸")
            for button in message["contents"]["footer"]["contents"]]


def local(url):
    return re.sub(r"^https?://[^/]+", "", url)


def test_the_found_you_message_links_to_a_confirm_page_in_the_browser(line, faces_dir,
                                                                     event):
    join(line, faces_dir, event)
    order = event["order"]
    [url] = found_you_links(line)
    assert "/line/gallery/" in url
    page = line.client.get(local(url))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="asked"' in html  # the faces it is unsure of
    assert html.count('class="face-card"') == 2 and "/p/" not in re.search(
        r'id="asked".*?</section>', html, re.S).group(0)  # crops only
    action = re.search(r'action="(/line/gallery/[^"]+/answer)"', html).group(1)
    asked = re.findall(r'class="answer-form">\s*<input[^>]*>\s*<input type="hidden" '
                       r'name="face_id" value="(\d+)"', html)
    names = {face_photo(line, face): face for face in asked}
    assert set(names) == set(order[1:3])
    # "This is me" on the page: the photo joins his photos, as a postback would
    moved = line.client.post(action, data={"face_id": names[order[1]], "answer": "me"})
    assert moved.status_code == 303 and order[1] in matched(line)
    again = line.client.get(moved.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert 'class="badge you-badge"' in again
    # "Not me" on a photo of his results takes it out, and a new selfie keeps it out
    sure = db_rows(line.app, "SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id "
                             "WHERE p.filename = ?", (order[0],))[0]["id"]
    assert f'name="face_id" value="{sure}"' in again
    assert line.client.post(action, data={"face_id": sure, "answer": "not_me"}
                            ).status_code == 303
    assert order[0] not in matched(line) and order[1] in matched(line)
    register_selfie(line, faces_dir, user_id=ATTENDEE, photo="obama.jpg")
    assert order[0] not in matched(line) and order[1] in matched(line)
    # a face never offered is refused with a message, and nothing changes
    hidden = db_rows(line.app, "SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id "
                               "WHERE p.filename = ?", (order[-1],))[0]["id"]
    before = matched(line)
    refused = line.client.post(action, data={"face_id": hidden, "answer": "me"})
    assert refused.status_code == 400 and 'id="answer-error"' in refused.get_data(as_text=True)
    assert matched(line) == before
    # after "delete my data" the link opens nothing
    line.send(hooks.text(hooks.user_source(ATTENDEE), "delete my data"))
    assert line.client.get(local(url)).status_code == 404


def test_photos_arriving_later_say_found_you_with_the_confirm_link(line, faces_dir):
    event = set_up_group_event(line)
    join(line, faces_dir, event)
    assert found_you_links(line) == []  # nothing indexed yet
    line.server.add_content("late", (faces_dir / OBAMA["obama-480p.jpg"]).read_bytes())
    line.post(hooks.image(hooks.group_source(GROUP, OPERATOR), "late"))
    line.run_jobs()
    [url] = found_you_links(line)
    page = line.client.get(local(url))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "We found you in 1 photo." in html
    assert matched(line) and "/p/" in html  # his photo, the one that just arrived
