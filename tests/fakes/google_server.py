"""A fake Google (OAuth 2.0 + OpenID userinfo + Drive v3) on 127.0.0.1.

It speaks the real protocol, so Phopy talks to it through the real
google-auth-oauthlib and google-api-python-client:

- ``GET /o/oauth2/auth``: a consent page; "Allow" redirects back with ``code``
  and ``state``. ``POST /token``: checks HTTP Basic client credentials (or
  form ones on refresh) and the PKCE verifier; ``invalid_grant`` for a revoked
  refresh token. ``GET /v1/userinfo``, ``POST /revoke``.
- ``/drive/v3/files`` (list with ``q``, paging), ``/drive/v3/files/<id>``
  (get with ``capabilities``; ``alt=media`` with ``Range`` → 206),
  ``/drive/v3/drives``, ``/drive/v3/changes/startPageToken``,
  ``/drive/v3/changes``; errors in Google's JSON shape. ``key=`` works for
  folders shared "anyone with the link".
- ``/_fake/*``: switches for tests (faults, latency, bandwidth, revoke, add and
  delete files, unshare a folder, request counts).

Run by hand: ``.venv/bin/python -m tests.fakes.google_server --port 8765
--folder ../shared/datasets/faces/group_photos`` (see README).
"""
import argparse
import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request

FOLDER = "application/vnd.google-apps.folder"
MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
        ".webp": "image/webp", ".heic": "image/heic", ".txt": "text/plain",
        ".pdf": "application/pdf", ".mp4": "video/mp4", ".csv": "text/csv"}
ROOT_ID = "0AFakeMyDriveRootFolder"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _new_id(prefix="1F"):
    return prefix + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")[:31]


class State:
    """Everything the fake knows; guarded by one lock."""

    def __init__(self, client_id, client_secret, api_key, email, name):
        self.lock = threading.RLock()
        self.client_id, self.client_secret, self.api_key = client_id, client_secret, api_key
        self.user = {"sub": "1098" + hashlib.sha1(email.encode()).hexdigest()[:17],
                     "email": email, "email_verified": True, "name": name}
        self.codes, self.access, self.refresh = {}, {}, {}
        self.files, self.drives, self.changes = {}, {}, []
        self.unshared = set()
        self.faults = []            # [{"status", "count", "match", "retry_after"}]
        self.latency = 0.0          # seconds added to every request
        self.bandwidth = 0          # bytes per second for media, 0: unlimited
        self.max_page_size = 1000   # Google may return fewer files than pageSize
        self.counts = {"media": {}, "list": 0, "token": 0, "refresh": 0}
        self.add_file(ROOT_ID, "My Drive", FOLDER, parent=None)

    # -- files --------------------------------------------------------------
    def add_file(self, file_id, name, mime, parent, content=None, drive_id=None, public=False):
        with self.lock:
            file_id = file_id or _new_id()
            meta = {"id": file_id, "name": name, "mimeType": mime, "trashed": False,
                    "parents": [parent] if parent else [], "modifiedTime": _now(),
                    "createdTime": _now(), "public": public}
            if drive_id or (parent and self.files.get(parent, {}).get("driveId")):
                meta["driveId"] = drive_id or self.files[parent]["driveId"]
            if mime != FOLDER:
                content = content or b""
                meta.update(size=str(len(content)), content=content,
                            md5Checksum=hashlib.md5(content).hexdigest())
            self.files[file_id] = meta
            self.changes.append({"fileId": file_id, "removed": False, "time": _now()})
            return meta

    def remove_file(self, file_id):
        with self.lock:
            doomed = [file_id] + [f for f in self.descendants(file_id)]
            for fid in doomed:
                if self.files.pop(fid, None) is not None:
                    self.changes.append({"fileId": fid, "removed": True, "time": _now()})

    def descendants(self, folder_id):
        out, stack = [], [folder_id]
        while stack:
            fid = stack.pop()
            for f in list(self.files.values()):
                if fid in f["parents"]:
                    out.append(f["id"])
                    stack.append(f["id"])
        return out

    def is_public(self, file_id):
        seen = set()
        while file_id and file_id not in seen:
            seen.add(file_id)
            meta = self.files.get(file_id)
            if not meta:
                return False
            if meta.get("public"):
                return True
            file_id = meta["parents"][0] if meta["parents"] else None
        return False

    def is_unshared(self, file_id):
        seen = set()
        while file_id and file_id not in seen:
            seen.add(file_id)
            if file_id in self.unshared:
                return True
            meta = self.files.get(file_id)
            file_id = meta["parents"][0] if meta and meta["parents"] else None
        return False

    def add_tree(self, folder, parent=ROOT_ID, extras=True, public=False):
        """Mirror a local folder (and its subfolders) under ``parent``; return its id."""
        folder = Path(folder)
        top = self.add_file(None, folder.name, FOLDER, parent, public=public)
        for path in sorted(folder.iterdir()):
            if path.is_dir():
                self.add_tree(path, top["id"], extras=False)
            elif path.is_file() and path.suffix.lower() in MIME:
                self.add_file(None, path.name, MIME[path.suffix.lower()], top["id"],
                              path.read_bytes())
        if extras:
            self.add_file(None, "README.txt", "text/plain", top["id"], b"Event notes\n")
            self.add_file(None, "schedule.pdf", "application/pdf", top["id"],
                          b"%PDF-1.4\n% fake\n")
            self.add_file(None, "Programme", "application/vnd.google-apps.document", top["id"])
        return top["id"]


def _error(code, message, reason, headers=None):
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
              404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
              503: "UNAVAILABLE"}.get(code, "UNKNOWN")
    body = {"error": {"code": code, "message": message, "status": status,
                      "errors": [{"message": message, "domain": "global", "reason": reason}]}}
    return Response(json.dumps(body), code, headers or {}, mimetype="application/json")


Q_CLAUSE = re.compile(
    r"^\s*(?:'(?P<pval>[^']*)'\s+in\s+parents"
    r"|(?P<field>mimeType|name|trashed|modifiedTime)\s*(?P<op>=|!=|>|<|contains)\s*"
    r"(?:'(?P<sval>(?:[^'\\]|\\.)*)'|(?P<bval>true|false)))\s*$")


def parse_q(q):
    """Google's query language, the subset Phopy uses: clauses joined by ``and``."""
    tests = []
    for clause in re.split(r"\s+and\s+", q or "", flags=re.I):
        if not clause.strip():
            continue
        m = Q_CLAUSE.match(clause)
        if not m:
            raise ValueError(f"Invalid Value: {clause}")
        if m["pval"] is not None:
            tests.append(lambda f, p=m["pval"]: p in f["parents"])
            continue
        field_, op = m["field"], m["op"]
        value = m["bval"] == "true" if m["bval"] else m["sval"].replace("\\'", "'")
        ops = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
               "<": lambda a, b: a < b, "contains": lambda a, b: str(b) in str(a)}
        tests.append(lambda f, k=field_, fn=ops[op], v=value: fn(f.get(k), v))
    return lambda f: all(t(f) for t in tests)


def public_meta(meta, can_download=True):
    out = {k: v for k, v in meta.items() if k not in ("content", "public")}
    out["kind"] = "drive#file"
    out["capabilities"] = {"canListChildren": meta["mimeType"] == FOLDER,
                           "canDownload": can_download}
    return out


def create_app(state):
    """The fake as a Flask app over ``state``."""
    app = Flask(__name__)
    app.config["fake_state"] = state

    @app.before_request
    def slow_down():
        if state.latency and not request.path.startswith("/_fake"):
            time.sleep(state.latency)

    # -- OAuth ------------------------------------------------------------------
    @app.get("/o/oauth2/auth")
    def authorize():
        a = request.args
        if a.get("client_id") != state.client_id:
            return "Error 401: invalid_client — The OAuth client was not found.", 401
        if a.get("response_type") != "code" or not a.get("redirect_uri"):
            return "Error 400: invalid_request", 400
        fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in a.items())
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in a.get("scope", "").split())
        return (f"<!doctype html><html><head><title>Sign in - Google Accounts</title></head>"
                f"<body><h1>Fake Google</h1><p>Phopy wants to access your Google Account</p>"
                f"<ul>{scopes}</ul><form method=post action='/o/oauth2/approve'>{fields}"
                f"<label>Email <input name=login_email value='{html.escape(state.user['email'])}'>"
                f"</label> <button id=allow type=submit name=decision value=allow>Allow</button> "
                f"<button id=deny type=submit name=decision value=deny>Cancel</button>"
                f"</form></body></html>")

    @app.post("/o/oauth2/approve")
    def approve():
        f = request.form
        target = f["redirect_uri"]
        if f.get("decision") != "allow":
            return redirect(target + "?" + urlencode({"error": "access_denied",
                                                      "state": f.get("state", "")}))
        email = (f.get("login_email") or state.user["email"]).strip().lower()
        if email != state.user["email"]:
            state.user = dict(state.user, email=email,
                              sub="1098" + hashlib.sha1(email.encode()).hexdigest()[:17])
        code = "4/" + secrets.token_urlsafe(24)
        state.codes[code] = {"client_id": f["client_id"], "redirect_uri": target,
                             "scope": f.get("scope", ""), "user": dict(state.user),
                             "challenge": f.get("code_challenge"),
                             "method": f.get("code_challenge_method", "plain"),
                             "offline": f.get("access_type") == "offline"}
        return redirect(target + "?" + urlencode({"code": code, "state": f.get("state", ""),
                                                  "scope": f.get("scope", "")}))

    def client_ok():
        auth = request.authorization
        cid, secret = (auth.username, auth.password) if auth else (
            request.form.get("client_id"), request.form.get("client_secret"))
        return cid == state.client_id and secret == state.client_secret

    def token_error(error, description, code=400):
        return jsonify({"error": error, "error_description": description}), code

    @app.post("/token")
    def token():
        state.counts["token"] += 1
        if not client_ok():
            return token_error("invalid_client", "The OAuth client was not found.", 401)
        grant = request.form.get("grant_type")
        if grant == "authorization_code":
            entry = state.codes.pop(request.form.get("code", ""), None)
            if not entry or entry["redirect_uri"] != request.form.get("redirect_uri"):
                return token_error("invalid_grant", "Malformed auth code.")
            verifier = request.form.get("code_verifier", "")
            if entry["challenge"]:
                digest = base64.urlsafe_b64encode(
                    hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                expected = digest if entry["method"] == "S256" else verifier
                if expected != entry["challenge"]:
                    return token_error("invalid_grant", "Missing code verifier.")
            access = "ya29." + secrets.token_urlsafe(24)
            body = {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                    "scope": entry["scope"], "id_token": _id_token(state, entry)}
            refresh = None
            if entry["offline"]:
                refresh = "1//" + secrets.token_urlsafe(32)
                body["refresh_token"] = refresh
                state.refresh[refresh] = {"user": entry["user"], "scope": entry["scope"]}
            state.access[access] = {"user": entry["user"], "scope": entry["scope"],
                                    "refresh": refresh}
            return jsonify(body)
        if grant == "refresh_token":
            state.counts["refresh"] += 1
            entry = state.refresh.get(request.form.get("refresh_token", ""))
            if not entry:
                return token_error("invalid_grant", "Token has been expired or revoked.")
            access = "ya29." + secrets.token_urlsafe(24)
            state.access[access] = dict(entry, refresh=request.form["refresh_token"])
            return jsonify({"access_token": access, "expires_in": 3599,
                            "token_type": "Bearer", "scope": entry["scope"]})
        return token_error("unsupported_grant_type", "Invalid grant_type.")

    def bearer():
        header = request.headers.get("Authorization", "")
        return state.access.get(header[7:]) if header.startswith("Bearer ") else None

    @app.get("/v1/userinfo")
    def userinfo():
        entry = bearer()
        if not entry:
            return jsonify({"error": "invalid_request",
                            "error_description": "Invalid Credentials"}), 401
        u = entry["user"]
        return jsonify({"sub": u["sub"], "email": u["email"],
                        "email_verified": u["email_verified"], "name": u["name"]})

    @app.post("/revoke")
    def revoke():
        tok = request.values.get("token", "")
        with state.lock:
            if tok in state.refresh:
                del state.refresh[tok]
                for a in [a for a, e in state.access.items() if e.get("refresh") == tok]:
                    del state.access[a]
                return "", 200
            if state.access.pop(tok, None):
                return "", 200
        return jsonify({"error": "invalid_token", "error_description": "Token expired or revoked"}), 400

    # -- Drive ------------------------------------------------------------------
    def fault():
        with state.lock:
            for f in state.faults:
                if f["count"] > 0 and f.get("match", "") in request.full_path:
                    f["count"] -= 1
                    headers = {"Retry-After": str(f["retry_after"])} if f.get("retry_after") \
                        is not None else {}
                    reason = "rateLimitExceeded" if f["status"] == 429 else "backendError"
                    if f["status"] == 403:
                        reason = f.get("reason", "userRateLimitExceeded")
                    return _error(f["status"], f.get("message", "Fake fault"), reason, headers)
        return None

    def caller():
        """'user' entry, 'public' for a valid API key, or an error response."""
        entry = bearer()
        if entry:
            if DRIVE_SCOPE not in entry["scope"].split():
                return None, _error(403, "Request had insufficient authentication scopes.",
                                    "insufficientPermissions")
            return entry, None
        if request.args.get("key"):
            if request.args["key"] != state.api_key:
                return None, _error(400, "API key not valid. Please pass a valid API key.",
                                    "badRequest")
            return "public", None
        return None, _error(401, "Request is missing required authentication credential.",
                            "authError")

    def visible(who, meta):
        if meta["id"] == ROOT_ID and who == "public":
            return False
        if who == "public":
            return state.is_public(meta["id"])
        return not state.is_unshared(meta["id"])

    @app.get("/drive/v3/files")
    def files_list():
        who, err = caller()
        if err or (err := fault()):
            return err
        state.counts["list"] += 1
        try:
            match = parse_q(request.args.get("q", "").replace("'root' in parents",
                                                              f"'{ROOT_ID}' in parents"))
            size = min(int(request.args.get("pageSize", 100)), state.max_page_size)
            start = int(request.args.get("pageToken") or 0)
        except ValueError as exc:
            return _error(400, str(exc), "invalid")
        with state.lock:
            rows = sorted((f for f in state.files.values()
                           if f["id"] != ROOT_ID and visible(who, f) and match(f)),
                          key=lambda f: (f["mimeType"] != FOLDER, f["name"].lower(), f["id"]))
        page = rows[start:start + size]
        body = {"kind": "drive#fileList", "incompleteSearch": False,
                "files": [public_meta(f) for f in page]}
        if start + size < len(rows):
            body["nextPageToken"] = str(start + size)
        return jsonify(body)

    @app.get("/drive/v3/files/<file_id>")
    def files_get(file_id):
        who, err = caller()
        if err or (err := fault()):
            return err
        file_id = ROOT_ID if file_id == "root" else file_id
        meta = state.files.get(file_id)
        if not meta or not visible(who, meta):
            return _error(404, f"File not found: {file_id}.", "notFound")
        if request.args.get("alt") != "media":
            return jsonify(public_meta(meta))
        if meta["mimeType"] == FOLDER or "content" not in meta:
            return _error(403, "Only files with binary content can be downloaded.",
                          "fileNotDownloadable")
        return media(meta)

    def media(meta):
        data = meta["content"]
        state.counts["media"][meta["id"]] = state.counts["media"].get(meta["id"], 0) + 1
        start, end, status, headers = 0, len(data) - 1, 200, {}
        rng = re.match(r"bytes=(\d+)-(\d*)", request.headers.get("Range", ""))
        if rng and data:
            start = int(rng[1])
            end = min(int(rng[2]) if rng[2] else len(data) - 1, len(data) - 1)
            if start >= len(data):
                return Response(b"", 416, {"Content-Range": f"bytes */{len(data)}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        chunk = data[start:end + 1]
        headers["Content-Length"] = str(len(chunk))

        def stream():
            step = 64 * 1024
            for i in range(0, len(chunk), step):
                part = chunk[i:i + step]
                if state.bandwidth:
                    time.sleep(len(part) / state.bandwidth)
                yield part
        return Response(stream(), status, headers, mimetype=meta["mimeType"],
                        direct_passthrough=True)

    @app.get("/drive/v3/drives")
    def drives_list():
        who, err = caller()
        if err or (err := fault()):
            return err
        drives = [] if who == "public" else list(state.drives.values())
        return jsonify({"kind": "drive#driveList", "drives": drives})

    @app.get("/drive/v3/changes/startPageToken")
    def start_page_token():
        who, err = caller()
        if err or (err := fault()):
            return err
        return jsonify({"kind": "drive#startPageToken",
                        "startPageToken": str(len(state.changes) + 1)})

    @app.get("/drive/v3/changes")
    def changes_list():
        who, err = caller()
        if err or (err := fault()):
            return err
        try:
            start = int(request.args["pageToken"])
            size = min(int(request.args.get("pageSize", 100)), 1000)
        except (KeyError, ValueError):
            return _error(400, "Invalid Value", "invalid")
        with state.lock:
            log = state.changes[start - 1:start - 1 + size]
            body = {"kind": "drive#changeList", "changes": []}
            for c in log:
                meta = state.files.get(c["fileId"])
                item = {"kind": "drive#change", "changeType": "file", "fileId": c["fileId"],
                        "removed": c["removed"] or meta is None, "time": c["time"]}
                if meta and not item["removed"] and visible(who, meta):
                    item["file"] = public_meta(meta)
                body["changes"].append(item)
            if start - 1 + size < len(state.changes):
                body["nextPageToken"] = str(start + size)
            else:
                body["newStartPageToken"] = str(len(state.changes) + 1)
        return jsonify(body)

    from tests.fakes.google_admin import register_admin
    register_admin(app, state)
    return app


def _id_token(state, entry):
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    u = entry["user"]
    claims = {"iss": "https://accounts.google.com", "aud": entry["client_id"], "sub": u["sub"],
              "email": u["email"], "email_verified": True, "iat": int(time.time()),
              "exp": int(time.time()) + 3600}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.fake"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--folder", action="append", default=[],
                        help="a local folder of photos to serve as a Drive folder (repeatable)")
    parser.add_argument("--public-folder", action="append", default=[],
                        help="like --folder, but shared 'anyone with the link'")
    parser.add_argument("--client-id", default="fake-client-id.apps.googleusercontent.com")
    parser.add_argument("--client-secret", default="fake-client-secret")
    parser.add_argument("--api-key", default="fake-api-key")
    parser.add_argument("--email", default="photographer@example.com")
    parser.add_argument("--name", default="Fake Photographer")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--bandwidth-mbps", type=float, default=0,
                        help="cap on media downloads, megabytes per second")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if not args.verbose:
        import logging
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    state = State(args.client_id, args.client_secret, args.api_key, args.email, args.name)
    state.latency = args.latency_ms / 1000
    state.bandwidth = int(args.bandwidth_mbps * 1024 * 1024)
    for folder in args.folder:
        print(f"folder {folder}: id {state.add_tree(folder)}", flush=True)
    for folder in args.public_folder:
        print(f"public folder {folder}: id {state.add_tree(folder, public=True)}", flush=True)
    app = create_app(state)
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    print(f"fake Google on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
