"""A student or teacher at the hub, over HTTP only: what the tests and bench_hub.py do.

    s = HubUser("http://127.0.0.1:8000", "alice")
    s.login("password")            # the hub's login form (PAM), then an API token
    s.start_server()               # POST /hub/api/users/alice/server, wait until ready
    s.put_notebook("x.ipynb", nb)  # the server's contents API
    k = s.kernel(); k.run("1 + 1") # the kernels API and its websocket (Jupyter protocol)

Every request goes through the hub's proxy (the address students use), with the token in
an Authorization header. Nothing here reads a file or runs as another account.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

import requests
import websocket


class HubError(RuntimeError):
    pass


class HubUser:
    def __init__(self, url: str, name: str, timeout: float = 30):
        self.url = url.rstrip("/")
        self.name = name
        self.timeout = timeout
        self.http = requests.Session()
        self.token: str | None = None

    # -- the hub ------------------------------------------------------------------------
    def login(self, password: str) -> requests.Response:
        """Log in with the login form; on success get an API token. Returns the form's
        response (a refusal is a 403 with the login page)."""
        page = self.http.get(f"{self.url}/hub/login", timeout=self.timeout)
        xsrf = self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf")
        r = self.http.post(f"{self.url}/hub/login", data={
            "username": self.name, "password": password, "_xsrf": xsrf},
            allow_redirects=False, timeout=self.timeout)
        if r.status_code in (302, 303):
            xsrf = self.http.cookies.get("_xsrf", path="/hub/")  # a new one, for the session
            t = self.http.post(f"{self.url}/hub/api/users/{quote(self.name)}/tokens",
                               json={"note": "hubclient", "expires_in": 4 * 3600},
                               headers={"X-XSRFToken": xsrf, "Referer": f"{self.url}/hub/"},
                               timeout=self.timeout)
            if t.status_code != 201:
                raise HubError(f"{self.name}: token request {t.status_code}: {t.text[:300]}")
            self.token = t.json()["token"]
        assert page.status_code == 200
        return r

    def headers(self, token=None):
        token = token or self.token
        return {"Authorization": f"token {token}"} if token else {}

    def hub_api(self, method: str, path: str, token=None, **kw) -> requests.Response:
        kw.setdefault("timeout", self.timeout)
        return self.http.request(method, f"{self.url}/hub/api{path}", headers=self.headers(token),
                                 allow_redirects=False, **kw)

    def start_server(self, timeout: float = 120) -> float:
        """Start this user's server and wait until it answers; returns the seconds taken."""
        t0 = time.monotonic()
        r = self.hub_api("POST", f"/users/{quote(self.name)}/server")
        if r.status_code not in (201, 202, 400):  # 400: already running
            raise HubError(f"{self.name}: start {r.status_code}: {r.text[:300]}")
        while time.monotonic() - t0 < timeout:
            u = self.hub_api("GET", f"/users/{quote(self.name)}").json()
            if u.get("server") and not u.get("pending"):
                if self.api("GET", "/api/status").status_code == 200:
                    return time.monotonic() - t0
            time.sleep(0.25)
        raise HubError(f"{self.name}: server not ready in {timeout} s")

    def stop_server(self, timeout: float = 60) -> None:
        self.hub_api("DELETE", f"/users/{quote(self.name)}/server")
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            u = self.hub_api("GET", f"/users/{quote(self.name)}").json()
            if not u.get("server") and not u.get("pending"):
                return
            time.sleep(0.25)

    # -- the user's server -----------------------------------------------------------------
    def server_url(self, user=None) -> str:
        return f"{self.url}/user/{quote(user or self.name)}"

    def api(self, method: str, path: str, user=None, token=None, **kw) -> requests.Response:
        """A request to a single-user server (this user's, or `user`'s) with this token."""
        kw.setdefault("timeout", self.timeout)
        return self.http.request(method, self.server_url(user) + path, headers=self.headers(token),
                                 allow_redirects=False, **kw)

    def get_file(self, path: str, user=None) -> requests.Response:
        return self.api("GET", f"/api/contents/{quote(path)}?content=1", user=user)

    def put_notebook(self, path: str, nb: dict) -> requests.Response:
        r = self.api("PUT", f"/api/contents/{quote(path)}", json={"type": "notebook", "format": "json",
                                                                   "content": nb})
        if r.status_code not in (200, 201):
            raise HubError(f"{self.name}: save {path}: {r.status_code} {r.text[:300]}")
        return r

    def notebook(self, path: str) -> dict:
        r = self.get_file(path)
        if r.status_code != 200:
            raise HubError(f"{self.name}: open {path}: {r.status_code} {r.text[:300]}")
        return r.json()["content"]

    def nbgrader(self, action: str, assignment: str, course: str) -> dict:
        """nbgrader's assignment list extension: fetch, submit, fetch_feedback."""
        r = self.api("POST", f"/assignments/{action}", data={
            "assignment_id": assignment, "course_id": course}, timeout=300)
        if r.status_code != 200:
            raise HubError(f"{self.name}: {action} {r.status_code}: {r.text[:300]}")
        return r.json()

    def kernel(self, cwd: str = "", name: str = "python3") -> "Kernel":
        r = self.api("POST", "/api/kernels", json={"name": name, "path": cwd})
        if r.status_code != 201:
            raise HubError(f"{self.name}: kernel {r.status_code}: {r.text[:300]}")
        return Kernel(self, r.json()["id"])


class Kernel:
    """One kernel of a user's server, driven over its websocket (the Jupyter protocol)."""

    def __init__(self, user: HubUser, kernel_id: str):
        self.user, self.id = user, kernel_id
        ws_url = user.server_url().replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {user.token}"],
                                              timeout=user.timeout)
        self.session = uuid.uuid4().hex

    def run(self, code: str, timeout: float = 120) -> dict:
        """Execute `code`; return {"status", "stdout", "error", "seconds"} when it is done."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.user.name,
                       "session": self.session, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        t0 = time.monotonic()
        out, status, error, idle = [], None, None, False
        while time.monotonic() - t0 < timeout and not (idle and status):
            # short waits, the deadline checked between them: the server pings the websocket
            # every 30 s, and a ping restarts a single recv()'s wait (a dead kernel that never
            # replies would otherwise keep run() waiting for ever)
            self.ws.settimeout(max(0.1, min(5.0, timeout - (time.monotonic() - t0))))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "execute_result":
                out.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                status = content["status"]
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        if not status:
            raise HubError(f"{self.user.name}: no reply in {timeout} s")
        return {"status": status, "stdout": "".join(out), "error": error,
                "seconds": time.monotonic() - t0}

    def close(self, shutdown=True):
        try:
            self.ws.close()
        finally:
            if shutdown:
                self.user.api("DELETE", f"/api/kernels/{self.id}")
