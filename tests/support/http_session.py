"""A browser-less, signed-in HTTP session on the app under gunicorn (requests + the CSRF token),
for the security sweeps and the benchmarks.

    admin = HttpSession(server.url).sign_in("admin", password)
    admin.post("/admin/users/7/grants", {"namespace": "team-a", "kinds": ["pods"]})
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
import requests

HTTP_TIMEOUT = 30
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class HttpSession:
    """A browser-less, signed-in session on the app under gunicorn (requests + CSRF token)."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()

    def url(self, path: str) -> str:
        """An absolute URL for a path (or for a Location header, relative or not)."""
        parts = urlsplit(path)
        return self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")

    def csrf_token(self) -> str:
        page = self.http.get(self.url("/login"), timeout=HTTP_TIMEOUT).text
        match = CSRF_META.search(page)
        assert match, "no csrf-token meta tag on the sign-in page"
        return match.group(1)

    def sign_in(self, username: str, password: str) -> "HttpSession":
        response = self.http.post(self.url("/login"), data={
            "username": username, "password": password, "csrf_token": self.csrf_token()},
            allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert response.status_code == 303, f"signing in {username}: {response.status_code} {response.text[:300]}"
        return self

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        page = self.http.get(self.url("/__csrf__"), timeout=HTTP_TIMEOUT).text  # any page has the token
        data = {**data, "csrf_token": CSRF_META.search(page).group(1)}
        return self.http.post(self.url(path), data=data, allow_redirects=False, timeout=HTTP_TIMEOUT,
                              **kwargs)

    def read_stream(self, path: str, timeout: float = 120) -> str:
        """Read an SSE stream to its end; return the raw text."""
        deadline = time.monotonic() + timeout
        chunks = []
        with self.http.get(self.url(path), stream=True, timeout=HTTP_TIMEOUT) as response:
            assert response.status_code == 200, f"{path}: {response.status_code}"
            for chunk in response.iter_content(chunk_size=None, decode_unicode=True):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    pytest.fail(f"{path} still streaming after {timeout:.0f}s")
        return "".join(chunks)
