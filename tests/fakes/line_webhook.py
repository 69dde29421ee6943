"""Build LINE webhook events with every field LINE sends, sign them, post them.

By hand, against a running Phopy (``LINE_CHANNEL_SECRET`` as in its ``.env``) and
the fake LINE API (``python -m tests.fakes.line_server``)::

    W=".venv/bin/python -m tests.fakes.line_webhook --secret SECRET"
    $W follow U0123456789abcdef0123456789abcdef --language en
    $W text U0123456789abcdef0123456789abcdef register
    $W join C0123456789abcdef0123456789abcdef
    $W group-text C0123… U0123… Phopy connect
    $W image U0123… selfie1 --file ../shared/datasets/faces/face_recognition_examples/obama2.jpg
    $W image U0123… img1 --group C0123… --file ../shared/datasets/faces/group_photos/fr_two_people.jpg
    $W unfollow U0123…

``--file`` hands the image to the fake LINE API first (as LINE keeps the content
of a message the user sent); ``follow`` gives the fake a profile for the user.
The bot's answers appear in the fake server's output.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

DESTINATION = "U" + "0" * 32


def signature(secret, body):
    """X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _base(kind, source, reply=True, redelivery=False, event_id=None):
    event = {"type": kind, "mode": "active", "timestamp": int(time.time() * 1000),
             "source": source, "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26],
             "deliveryContext": {"isRedelivery": redelivery}}
    if reply:
        event["replyToken"] = uuid.uuid4().hex
    return event


def user_source(user_id):
    return {"type": "user", "userId": user_id}


def group_source(group_id, user_id=None):
    source = {"type": "group", "groupId": group_id}
    if user_id:
        source["userId"] = user_id
    return source


def follow(user_id):
    event = _base("follow", user_source(user_id))
    event["follow"] = {"isUnblocked": False}
    return event


def unfollow(user_id):
    return _base("unfollow", user_source(user_id), reply=False)


def join(group_id):
    return _base("join", group_source(group_id))


def text(source, message_text):
    event = _base("message", source)
    event["message"] = {"type": "text", "id": str(uuid.uuid4().int)[:18],
                        "quoteToken": uuid.uuid4().hex, "text": message_text}
    return event


def image(source, message_id, image_set=None):
    event = _base("message", source)
    event["message"] = {"type": "image", "id": message_id, "quoteToken": uuid.uuid4().hex,
                        "contentProvider": {"type": "line"}}
    if image_set:
        event["message"]["imageSet"] = image_set
    return event


def postback(source, data):
    """A postback event: the user tapped a button whose action carried ``data``."""
    event = _base("postback", source)
    event["postback"] = {"data": data}
    return event


def body(*events):
    """A webhook body (bytes) carrying the events."""
    return json.dumps({"destination": DESTINATION, "events": list(events)}).encode()


def post(url, secret, events, bad_signature=False):
    """Sign and POST the events to a running Phopy; return (status, text)."""
    data = body(*events)
    sig = signature(secret + ("x" if bad_signature else ""), data)
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json", "X-Line-Signature": sig})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def configure(fake_url, settings):
    """Tell the fake LINE API about profiles or message contents."""
    req = urllib.request.Request(f"{fake_url.rstrip('/')}/_fake/config", method="POST",
                                 data=json.dumps(settings).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description="Send signed LINE webhook events")
    parser.add_argument("--url", default="http://127.0.0.1:5000/line/webhook")
    parser.add_argument("--secret", required=True)
    parser.add_argument("kind", choices=["follow", "unfollow", "text", "join", "group-text",
                                         "image"])
    parser.add_argument("args", nargs="+")
    parser.add_argument("--group")
    parser.add_argument("--fake", default="http://127.0.0.1:8090", help="the fake LINE API")
    parser.add_argument("--file", help="image content for an image event")
    parser.add_argument("--language", default="th", help="profile language on follow")
    opts = parser.parse_args(argv)
    a = opts.args
    if opts.kind == "follow":
        event = follow(a[0])
    elif opts.kind == "unfollow":
        event = unfollow(a[0])
    elif opts.kind == "join":
        event = join(a[0])
    elif opts.kind == "text":
        event = text(user_source(a[0]), " ".join(a[1:]))
    elif opts.kind == "group-text":
        event = text(group_source(a[0], a[1]), " ".join(a[2:]))
    else:
        source = group_source(opts.group, a[0]) if opts.group else user_source(a[0])
        event = image(source, a[1])
    if opts.kind == "follow":
        configure(opts.fake, {"profiles": {a[0]: {"userId": a[0], "displayName": "Tester",
                                                  "language": opts.language}}})
    if opts.kind == "image" and opts.file:
        configure(opts.fake, {"content_files": {a[1]: str(Path(opts.file).resolve())}})
    status, answer = post(opts.url, opts.secret, [event])
    print(status, answer)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
