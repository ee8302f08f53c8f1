"""Tiny stdlib HTTP helper for the admin, frontend and OFREP calls the harness makes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class HttpResult:
    def __init__(self, status: int, body: bytes, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        return json.loads(self.body) if self.body else None

    def text(self, limit: int = 300) -> str:
        return self.body[:limit].decode("utf-8", "replace")


def call(method: str, url: str, token: str | None = None, body=None, headers=None,
         timeout: float = 10.0) -> HttpResult:
    data = None
    h = {"Accept": "application/json"}
    if token:
        h["Authorization"] = token
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return HttpResult(r.status, r.read(), r.headers)
    except urllib.error.HTTPError as e:
        return HttpResult(e.code, e.read(), e.headers)
