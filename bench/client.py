"""A logged-in browser stand-in: plain HTTP/1.1 to 127.0.0.1, cookies, CSRF, htmx headers.

The standard library only, so what is timed is the server and the socket,
not a client library. gunicorn's sync workers close the connection after
each response, so every request opens its own connection, as a browser's
would after a pause.
"""

from __future__ import annotations

import http.client
import re
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Failed(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Session:
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes = b"", headers=None) -> Response:
        headers = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        conn.request(method, path, body=body or None, headers=headers)
        reply = conn.getresponse()
        data = reply.read()
        seconds = time.perf_counter() - start
        conn.close()
        for value in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return Response(reply.status, dict(reply.headers.items()), data, seconds)

    def get(self, path: str, htmx: str = "", expect: int = 200) -> Response:
        """`htmx`: the id of the element htmx would swap (sent as HX-Target)."""
        return self._check(self.request("GET", path, headers=self._htmx(htmx)), expect)

    def post(self, path: str, data: dict | None = None, htmx: str = "", expect=200):
        body = urlencode(data or {}, doseq=True).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Referer": f"http://{self.host}:{self.port}{path}",
            **self._htmx(htmx),
        }
        return self._check(self.request("POST", path, body, headers), expect)

    def upload(self, path: str, fields: dict, filename: str, data: bytes, expect=302):
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in {"csrfmiddlewaretoken": self.cookies["csrftoken"], **fields}.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self._check(self.request("POST", path, b"".join(parts), headers), expect)

    def login(self, username: str, password: str) -> None:
        page = self.get("/login/")
        token = TOKEN.search(page.text).group(1)
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        self.post("/login/", form, expect=302)
        if "sessionid" not in self.cookies:
            raise Failed(f"login as {username} failed")

    def follow(self, response: Response) -> str:
        """The path a redirect points to."""
        location = response.headers["Location"]
        return urljoin("/", location.split(f"{self.port}", 1)[-1])

    @staticmethod
    def _htmx(target: str) -> dict:
        return {"HX-Request": "true", "HX-Target": target} if target else {}

    @staticmethod
    def _check(response: Response, expect: int) -> Response:
        if response.status != expect:
            raise Failed(f"HTTP {response.status}, expected {expect}: {response.text[:500]}")
        return response
