"""The fake Google server as a subprocess on 127.0.0.1 (a free port), with helpers."""
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from urllib.parse import parse_qsl, urlsplit

from phopy.config import REPO_ROOT


class FakeGoogle:
    """A running ``tests.fakes.google_server``; ``folders`` maps local folder -> Drive id."""

    client_id = "fake-client-id.apps.googleusercontent.com"
    client_secret = "fake-client-secret"
    api_key = "fake-api-key"

    def __init__(self, folders=(), public_folders=(), email="photographer@example.com"):
        cmd = [sys.executable, "-m", "tests.fakes.google_server", "--port", "0",
               "--email", email]
        for f in folders:
            cmd += ["--folder", str(f)]
        for f in public_folders:
            cmd += ["--public-folder", str(f)]
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        self.folders = {}
        for line in self.proc.stdout:
            if line.startswith(("folder ", "public folder ")):
                path, _, fid = line.rstrip().rpartition(": id ")
                self.folders[path.removeprefix("public ").removeprefix("folder ")] = fid
            if line.startswith("fake Google on "):
                self.url = line.split()[-1]
                break
        else:
            raise RuntimeError("the fake Google server did not start")

    def folder_id(self, path):
        return self.folders[str(path)]

    def config(self):
        """Phopy settings pointing every Google endpoint here."""
        return {"GOOGLE_CLIENT_ID": self.client_id, "GOOGLE_CLIENT_SECRET": self.client_secret,
                "GOOGLE_API_KEY": self.api_key,
                "GOOGLE_AUTH_URI": self.url + "/o/oauth2/auth",
                "GOOGLE_TOKEN_URI": self.url + "/token",
                "GOOGLE_USERINFO_URI": self.url + "/v1/userinfo",
                "GOOGLE_REVOKE_URI": self.url + "/revoke",
                "GOOGLE_DRIVE_API_ENDPOINT": self.url + "/drive/v3/",
                "DRIVE_RETRY_BASE_SECONDS": 0.01}

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def state(self):
        return self.call("GET", "/_fake/state")

    def media_count(self, file_id=None):
        media = self.state()["counts"]["media"]
        return media.get(file_id, 0) if file_id else sum(media.values())

    def files_in(self, folder_id):
        return [f for f in self.state()["files"] if folder_id in f["parents"]]

    def consent(self, authorize_url):
        """Press "Allow" on the consent page; return the callback URL with code and state."""
        params = dict(parse_qsl(urlsplit(authorize_url).query))
        params["decision"] = "allow"
        data = urllib.parse.urlencode(params).encode()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(self.url + "/o/oauth2/approve", data=data, timeout=30)
        except urllib.error.HTTPError as exc:
            return exc.headers["Location"]
        raise AssertionError("the consent page did not redirect")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
