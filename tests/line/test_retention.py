"""Every LINE biometric datum and personal message has a deletion path with a date:
selfies (joined events purged or deleted, or no event joined), faces of photos added
after a purge, the outbox, webhook records and tokens."""
from tests.conftest import add_files, db_rows, index_all, login, make_event
from tests.fakes import line_webhook as hooks
from tests.line.conftest import ATTENDEE, GROUP, OPERATOR, STRANGER
from tests.line.test_flow import (OBAMA_PHOTOS, OTHER_PHOTOS, register_selfie,
                                  send_group_photos, set_up_group_event)


def sql(line, statement, params=()):
    from phopy.data import get_database
    conn = get_database(line.app).connect()
    try:
        conn.execute(statement, params)
    finally:
        conn.close()


def run_job(line, kind):
    """Queue one run of a scheduled job and run it (as the schedule does)."""
    from phopy.data import get_database
    from phopy.jobs.queue import enqueue
    conn = get_database(line.app).connect()
    try:
        task_id = enqueue(conn, kind, {})["id"]
    finally:
        conn.close()
    line.run_jobs()
    import json
    row = db_rows(line.app, "SELECT status, result FROM tasks WHERE id = ?", (task_id,))[0]
    assert row["status"] == "completed", row
    return json.loads(row["result"])


def selfie_of(line, user_id):
    return db_rows(line.app, "SELECT face_encoding, encoded_at FROM line_users "
                   "WHERE user_id = ?", (user_id,))[0]["face_encoding"]


def close_days_ago(line, event_id, days):
    """Close the event as if ``days`` ago (time passing)."""
    from datetime import datetime, timedelta, timezone
    when = (datetime.now(timezone.utc) - timedelta(days=days)).replace(microsecond=0)
    sql(line, "UPDATE events SET closed_at = ? WHERE id = ?", (when.isoformat(), event_id))


def age_selfie(line, user_id, days):
    from datetime import datetime, timedelta, timezone
    when = (datetime.now(timezone.utc) - timedelta(days=days)).replace(microsecond=0)
    sql(line, "UPDATE line_users SET encoded_at = ? WHERE user_id = ?",
        (when.isoformat(), user_id))


def join(line, user_id, code):
    line.send(hooks.text(hooks.user_source(user_id), code))


def test_a_purged_event_takes_the_selfies_of_attendees_found_nowhere(line, faces_dir):
    event = set_up_group_event(line)
    other = make_event(line.app, db_rows(line.app, "SELECT id FROM photographers")[0]["id"],
                       name="Still open")
    for user_id in (ATTENDEE, STRANGER):
        line.send(hooks.follow(user_id))
        register_selfie(line, faces_dir, user_id)
        join(line, user_id, event["code"])
    join(line, STRANGER, other["code"])  # STRANGER is also in an event still kept
    send_group_photos(line, faces_dir, OTHER_PHOTOS)  # Obama is in none of them
    assert db_rows(line.app, "SELECT * FROM line_matches") == []
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy close"))
    close_days_ago(line, event["id"], 6)
    assert run_job(line, "purge_faces")["purged"] == []
    assert selfie_of(line, ATTENDEE) is not None
    close_days_ago(line, event["id"], 8)
    assert run_job(line, "purge_faces")["purged"] == [event["id"]]
    assert selfie_of(line, ATTENDEE) is None
    assert selfie_of(line, STRANGER) is not None  # still needed for "Still open"


def test_a_selfie_in_no_event_is_deleted_days_after_it_was_sent(line, faces_dir):
    event = set_up_group_event(line)
    for user_id in (ATTENDEE, STRANGER):
        line.send(hooks.follow(user_id))
        register_selfie(line, faces_dir, user_id)
    join(line, STRANGER, event["code"])  # in an open event: kept however old
    assert "7" in line.server.delivered("reply")[-2]["messages"][0]["text"]
    assert run_job(line, "purge_faces")["selfies_expired"] == 0
    age_selfie(line, ATTENDEE, 6)
    age_selfie(line, STRANGER, 30)
    assert run_job(line, "purge_faces")["selfies_expired"] == 0
    assert selfie_of(line, ATTENDEE) is not None
    age_selfie(line, ATTENDEE, 7.01)
    assert run_job(line, "purge_faces")["selfies_expired"] == 1
    assert selfie_of(line, ATTENDEE) is None
    assert selfie_of(line, STRANGER) is not None
    assert db_rows(line.app, "SELECT face_engine FROM line_users WHERE user_id = ?",
                   (ATTENDEE,)) == [{"face_engine": None}]


def test_deleting_an_event_deletes_its_participants_selfies(line, faces_dir):
    event = set_up_group_event(line, web_account=True)
    other = make_event(line.app, event["owner_id"], name="Another day")
    for user_id in (ATTENDEE, STRANGER):
        line.send(hooks.follow(user_id))
        register_selfie(line, faces_dir, user_id)
        join(line, user_id, event["code"])
    join(line, STRANGER, other["code"])
    login(line.client)
    assert line.client.post(f"/dashboard/events/{event['id']}/delete").status_code == 302
    assert db_rows(line.app, "SELECT * FROM events WHERE id = ?", (event["id"],)) == []
    assert db_rows(line.app, "SELECT event_id FROM line_participants") == \
        [{"event_id": other["id"]}]
    assert selfie_of(line, ATTENDEE) is None
    assert selfie_of(line, STRANGER) is not None


def test_photos_added_to_a_purged_event_are_not_indexed(line, faces_dir):
    event = set_up_group_event(line, web_account=True)
    line.send(hooks.text(hooks.group_source(GROUP, OPERATOR), "Phopy close"))
    close_days_ago(line, event["id"], 8)
    assert run_job(line, "purge_faces")["purged"] == [event["id"]]
    added = add_files(line.app, event["id"], [faces_dir / "group_photos" / OBAMA_PHOTOS[0]])
    assert len(added.added) == 1
    index_all(line.app)
    assert db_rows(line.app, "SELECT * FROM faces") == []
    checkpoints = db_rows(line.app, "SELECT status, error FROM photo_checkpoints")
    assert [c["status"] for c in checkpoints] == ["error"]
    assert "face data was deleted" in checkpoints[0]["error"]
    # Re-indexing on the dashboard does not bring them back either.
    login(line.client)
    line.client.post(f"/dashboard/events/{event['id']}/reindex")
    index_all(line.app)
    assert db_rows(line.app, "SELECT * FROM faces") == []


def test_faces_found_after_a_purge_are_never_stored(line, faces_dir):
    """The last guard: a scan that finishes after the purge stores no face."""
    from phopy.data import get_database
    from phopy.data import photos as photos_db
    event = set_up_group_event(line)
    add_files(line.app, event["id"], [faces_dir / "group_photos" / OBAMA_PHOTOS[0]],
              queue=False)
    sql(line, "UPDATE events SET closed_at = '2000-01-01T00:00:00+00:00', "
        "faces_purged_at = '2000-01-08T00:00:00+00:00' WHERE id = ?", (event["id"],))
    conn = get_database(line.app).connect()
    try:
        photo = conn.one("SELECT * FROM photos")
        assert photos_db.record_scan(conn, photo, None, "indexed",
                                     [((1, 2, 3, 4), b"\0" * 512)]) is False
    finally:
        conn.close()
    assert db_rows(line.app, "SELECT * FROM faces") == []


def outbox_to(line, user_id):
    return db_rows(line.app, "SELECT purpose, messages FROM line_outbox WHERE to_id = ? "
                   "ORDER BY id", (user_id,))


def test_delete_my_data_and_unfollow_delete_the_messages_to_the_user(line, faces_dir):
    event = set_up_group_event(line)
    for user_id in (ATTENDEE, STRANGER):
        line.send(hooks.follow(user_id))
        register_selfie(line, faces_dir, user_id)
        join(line, user_id, event["code"])
    send_group_photos(line, faces_dir, OBAMA_PHOTOS)
    assert [r["purpose"] for r in outbox_to(line, ATTENDEE)].count("found_you") == 1
    assert len(outbox_to(line, STRANGER)) >= 3
    line.send(hooks.text(hooks.user_source(ATTENDEE), "delete my data"))
    left = outbox_to(line, ATTENDEE)
    assert len(left) == 1 and "deleted" in left[0]["messages"]  # the answer only
    line.send(hooks.unfollow(STRANGER))
    assert outbox_to(line, STRANGER) == []
    assert outbox_to(line, GROUP)  # the group's messages are not the user's


def test_outbox_webhook_records_and_tokens_are_pruned_by_date(line):
    line.send(hooks.follow(ATTENDEE))
    line.send(hooks.text(hooks.user_source(OPERATOR), "register"))
    line.send(hooks.text(hooks.user_source(OPERATOR), "add group"))  # an open token
    line.send(hooks.text(hooks.user_source(OPERATOR), "add group"))  # and another
    counts = lambda: {t: len(db_rows(line.app, f"SELECT * FROM {t}"))  # noqa: E731
                      for t in ("line_outbox", "line_webhook_events", "line_tokens")}
    before = counts()
    assert before == {"line_outbox": 4, "line_webhook_events": 4, "line_tokens": 2}
    assert run_job(line, "line_prune") == {"outbox": 0, "webhook_events": 0, "tokens": 0}
    # Age one of each past its keeping time (and one just inside it).
    first_outbox = db_rows(line.app, "SELECT MIN(id) AS id FROM line_outbox")[0]["id"]
    sql(line, "UPDATE line_outbox SET created_at = '2000-01-01T00:00:00+00:00' WHERE id = ?",
        (first_outbox,))
    from datetime import datetime, timedelta, timezone
    recent = (datetime.now(timezone.utc) - timedelta(days=29)).replace(microsecond=0)
    sql(line, "UPDATE line_outbox SET created_at = ? WHERE id = ?",
        (recent.isoformat(), first_outbox + 1))
    sql(line, "UPDATE line_webhook_events SET received_at = '2000-01-01T00:00:00+00:00' "
        "WHERE webhook_event_id = (SELECT MIN(webhook_event_id) FROM line_webhook_events)")
    token = db_rows(line.app, "SELECT MIN(token) AS t FROM line_tokens")[0]["t"]
    sql(line, "UPDATE line_tokens SET expires_at = expires_at - 3 * 86400 WHERE token = ?",
        (token,))
    assert run_job(line, "line_prune") == {"outbox": 1, "webhook_events": 1, "tokens": 1}
    assert counts() == {"line_outbox": 3, "line_webhook_events": 3, "line_tokens": 1}
    assert db_rows(line.app, "SELECT * FROM line_tokens WHERE token = ?", (token,)) == []


def test_pruning_and_purging_are_scheduled():
    import phopy.line.housekeeping  # noqa: F401
    import phopy.services.retention  # noqa: F401
    from phopy.jobs.schedule import get_entry
    assert get_entry("line-prune").kind == "line_prune"
    assert get_entry("line-prune").interval({}) == 3600  # also with LINE off
    assert get_entry("purge-faces").interval({}) == 3600
