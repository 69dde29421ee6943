"""The fake Google server's switches for tests: ``/_fake/...`` (JSON in, JSON out).

- ``POST /_fake/faults`` ``{"status": 429|500|503|403, "count", "match", "retry_after",
  "reason"}``: the next ``count`` Drive requests whose path contains ``match`` fail so.
- ``POST /_fake/settings`` ``{"latency_ms", "bandwidth", "max_page_size"}``.
- ``POST /_fake/files`` ``{"name", "parent", "content_b64" | "path", "mimeType"}``: add a
  file (or a folder with the folder MIME type); ``DELETE /_fake/files/<id>`` removes it
  (and what is below it); ``POST /_fake/files/<id>/content`` changes its bytes.
- ``POST /_fake/tree`` ``{"folder", "parent", "shared_drive", "public"}``: mirror a local
  folder. ``POST /_fake/user`` ``{"sub", "email", "email_verified", "name"}``: who signs
  in next. ``POST /_fake/unshare/<id>``, ``POST /_fake/revoke_all``, ``GET /_fake/state``.
"""
import base64
import hashlib
from pathlib import Path

from flask import jsonify, request

from tests.fakes.google_server import FOLDER, MIME, ROOT_ID, _new_id, _now, public_meta


def register_admin(app, state):
    """Switches for tests: ``/_fake/...`` (JSON in, JSON out)."""

    @app.post("/_fake/faults")
    def set_faults():
        body = request.get_json(force=True)
        with state.lock:
            state.faults.append({"status": int(body["status"]), "count": int(body.get("count", 1)),
                                 "match": body.get("match", ""),
                                 "retry_after": body.get("retry_after"),
                                 "reason": body.get("reason"), "message": body.get("message",
                                                                                   "Fake fault")})
        return jsonify(ok=True)

    @app.post("/_fake/settings")
    def settings():
        body = request.get_json(force=True)
        if "latency_ms" in body:
            state.latency = float(body["latency_ms"]) / 1000
        if "bandwidth" in body:
            state.bandwidth = int(body["bandwidth"])
        if "max_page_size" in body:
            state.max_page_size = int(body["max_page_size"])
        return jsonify(ok=True)

    @app.post("/_fake/files")
    def add_file():
        body = request.get_json(force=True)
        content = base64.b64decode(body["content_b64"]) if "content_b64" in body else (
            Path(body["path"]).read_bytes() if body.get("path") else None)
        mime = body.get("mimeType") or MIME.get(Path(body["name"]).suffix.lower(),
                                                "application/octet-stream")
        parent = body.get("parent", ROOT_ID)
        parent = ROOT_ID if parent == "root" else parent
        meta = state.add_file(body.get("id"), body["name"], mime, parent,
                              content, public=bool(body.get("public")))
        return jsonify(public_meta(meta))

    @app.post("/_fake/tree")
    def add_tree():
        body = request.get_json(force=True)
        parent = body.get("parent", ROOT_ID)
        if body.get("shared_drive"):
            drive_id = _new_id("0A")
            state.drives[drive_id] = {"kind": "drive#drive", "id": drive_id,
                                      "name": body["shared_drive"]}
            state.add_file(drive_id, body["shared_drive"], FOLDER, None, drive_id=drive_id)
            parent = drive_id
        folder_id = state.add_tree(body["folder"], parent, extras=body.get("extras", True),
                                   public=bool(body.get("public")))
        return jsonify(id=folder_id)

    @app.delete("/_fake/files/<file_id>")
    def delete_file(file_id):
        state.remove_file(file_id)
        return jsonify(ok=True)

    @app.post("/_fake/files/<file_id>/content")
    def replace_content(file_id):
        data = base64.b64decode(request.get_json(force=True)["content_b64"])
        with state.lock:
            meta = state.files[file_id]
            meta.update(content=data, size=str(len(data)), modifiedTime=_now(),
                        md5Checksum=hashlib.md5(data).hexdigest())
            state.changes.append({"fileId": file_id, "removed": False, "time": _now()})
        return jsonify(public_meta(meta))

    @app.post("/_fake/unshare/<file_id>")
    def unshare(file_id):
        state.unshared.add(file_id)
        return jsonify(ok=True)

    @app.post("/_fake/revoke_all")
    def revoke_all():
        with state.lock:
            state.refresh.clear()
            state.access.clear()
        return jsonify(ok=True)

    @app.post("/_fake/user")
    def set_user():
        body = request.get_json(force=True)
        with state.lock:
            state.user = dict(state.user, **{k: body[k] for k in
                                             ("sub", "email", "email_verified", "name")
                                             if k in body})
        return jsonify(state.user)

    @app.get("/_fake/state")
    def show_state():
        with state.lock:
            return jsonify(counts=state.counts, user=state.user,
                           refresh_tokens=len(state.refresh),
                           files=[public_meta(f) for f in state.files.values()])
