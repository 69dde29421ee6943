"""A fake LINE Messaging API on 127.0.0.1, speaking what line-bot-sdk v3 sends.

Paths (see ``../shared/notes/integrations.md``): reply, push (with
``X-Line-Retry-Key``), multicast, profile, group summary, leave, message
content. It records every request it got (``/_fake/requests``) and has
switches (``/_fake/config``): fail the next N pushes with 429 or 500, answer
404 for message content. A 500 on push is the nasty kind: the message was
accepted but the answer was lost, so a retry with the same retry key gets 409
(LINE's "already accepted") and the message is delivered once.

By hand::

    .venv/bin/python -m tests.fakes.line_server --port 8090

Then put ``LINE_API_HOST=http://127.0.0.1:8090`` in ``.env`` and drive Phopy
with ``tests.fakes.line_webhook`` (signed webhook events).
"""
import argparse
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OK = {"sentMessages": [{"id": "1", "quoteToken": "q"}]}


class FakeLineState:
    """What the fake holds: profiles, group names, message contents, records, switches."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []           # every request: {method, path, headers, body}
        self.delivered = []          # messages that reached a user: {kind, to, messages}
        self.accepted_keys = {}      # X-Line-Retry-Key -> request id
        self.profiles = {}           # userId -> profile dict
        self.groups = {}             # groupId -> groupName
        self.contents = {}           # message id -> bytes
        self.push_failures = []      # queue of statuses for the next pushes (429, 500)
        self.content_404 = False
        self.used_reply_tokens = set()
        self.echo = False            # print delivered messages (when run by hand)

    def deliver(self, entry):
        """Record a message that reached LINE users (lock held by the caller)."""
        self.delivered.append(entry)
        if self.echo:
            texts = [m.get("text") or f"[{m.get('type')}] {m.get('altText', '')}"
                     for m in entry.get("messages") or []]
            target = entry.get("to") or "reply"
            for text in texts:
                print(f"<- {entry['kind']} to {target}: {text}", flush=True)
            for m in entry.get("messages") or []:
                if m.get("type") == "flex":
                    print("   " + json.dumps(m["contents"], ensure_ascii=False)[:600], flush=True)

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeLINE/1"

    def log_message(self, *args):  # quiet
        pass

    @property
    def state(self):
        return self.server.state

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, payload=None, raw=None, ctype="application/json", headers=None):
        data = raw if raw is not None else json.dumps(payload or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-line-request-id", uuid.uuid4().hex)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self):
        return (self.headers.get("Authorization") or "").startswith("Bearer ")

    def do_GET(self):
        st = self.state
        path = self.path.split("?")[0]
        st.record({"method": "GET", "path": path, "headers": dict(self.headers), "body": None})
        if path == "/_fake/requests":
            with st.lock:
                return self._send(200, {"requests": st.requests, "delivered": st.delivered})
        if not self._authorized():
            return self._send(401, {"message": "Authentication failed"})
        if m := re.fullmatch(r"/v2/bot/profile/(U[0-9a-f]{32})", path):
            profile = st.profiles.get(m[1])
            if not profile:
                return self._send(404, {"message": "Not found"})
            return self._send(200, profile)
        if m := re.fullmatch(r"/v2/bot/group/([^/]+)/summary", path):
            return self._send(200, {"groupId": m[1], "groupName": st.groups.get(m[1], "Group")})
        if m := re.fullmatch(r"/v2/bot/message/([^/]+)/content", path):
            data = st.contents.get(m[1])
            if st.content_404 or data is None:
                return self._send(404, {"message": "Not found"})
            return self._send(200, raw=data, ctype="image/jpeg")
        return self._send(404, {"message": "Not found"})

    def do_POST(self):
        st = self.state
        path = self.path.split("?")[0]
        raw = self._body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        st.record({"method": "POST", "path": path, "headers": dict(self.headers), "body": body})
        if path == "/_fake/config":
            return self._configure(body or {})
        if path == "/_fake/reset":
            with st.lock:
                st.requests.clear()
                st.delivered.clear()
            return self._send(200, {})
        if not self._authorized():
            return self._send(401, {"message": "Authentication failed"})
        if body is None:
            return self._send(400, {"message": "The request body has 1 error(s)"})
        if path == "/v2/bot/message/reply":
            token = body.get("replyToken")
            with st.lock:
                if not token or token in st.used_reply_tokens:
                    return self._send(400, {"message": "Invalid reply token"})
                st.used_reply_tokens.add(token)
                st.deliver({"kind": "reply", "token": token, "messages": body.get("messages")})
            return self._send(200, OK)
        if path == "/v2/bot/message/push":
            return self._push(body)
        if path == "/v2/bot/message/multicast":
            with st.lock:
                for to in body.get("to") or []:
                    st.deliver({"kind": "multicast", "to": to, "messages": body.get("messages")})
            return self._send(200, {})
        if re.fullmatch(r"/v2/bot/group/[^/]+/leave", path):
            return self._send(200, {})
        return self._send(404, {"message": "Not found"})

    def _push(self, body):
        st = self.state
        key = self.headers.get("X-Line-Retry-Key")
        with st.lock:
            if key and key in st.accepted_keys:
                return self._send(409, {"message": "The retry key is already accepted"},
                                  headers={"x-line-accepted-request-id": st.accepted_keys[key]})
            failure = st.push_failures.pop(0) if st.push_failures else None
            if failure == 429:
                return self._send(429, {"message": "You have reached your monthly limit."})
            request_id = uuid.uuid4().hex
            if key:
                st.accepted_keys[key] = request_id
            st.deliver({"kind": "push", "to": body.get("to"), "retry_key": key,
                        "messages": body.get("messages")})
        if failure:  # accepted, but the answer says it failed (the answer was lost)
            return self._send(failure, {"message": "Internal server error"})
        return self._send(200, OK)

    def _configure(self, body):
        st = self.state
        with st.lock:
            st.push_failures.extend(body.get("push_failures") or [])
            if "content_404" in body:
                st.content_404 = bool(body["content_404"])
            st.profiles.update(body.get("profiles") or {})
            st.groups.update(body.get("groups") or {})
            for message_id, path in (body.get("content_files") or {}).items():
                st.contents[message_id] = Path(path).read_bytes()
        return self._send(200, {})


class FakeLineServer:
    """The fake in a background thread; ``url`` is what LINE_API_HOST should be."""

    def __init__(self, port=0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state = FakeLineState()
        self.thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- helpers for tests ----------------------------------------------------
    def add_profile(self, user_id, name, language=None):
        profile = {"userId": user_id, "displayName": name}
        if language:
            profile["language"] = language
        self.state.profiles[user_id] = profile

    def add_content(self, message_id, data):
        self.state.contents[message_id] = data

    def delivered(self, kind=None, to=None):
        with self.state.lock:
            return [d for d in self.state.delivered
                    if (kind is None or d["kind"] == kind) and (to is None or d.get("to") == to)]

    def requests(self, path=None):
        with self.state.lock:
            return [r for r in self.state.requests if path is None or r["path"] == path]


def main():
    parser = argparse.ArgumentParser(description="A fake LINE Messaging API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    server = FakeLineServer(args.port)
    server.state.echo = True
    print(f"Fake LINE API on {server.url} (LINE_API_HOST={server.url}); Ctrl+C to stop",
          flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
