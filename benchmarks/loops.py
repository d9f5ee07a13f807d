"""The minimal loops the clients are measured against: what a hand-written client would do
(read what arrived, split lines, ``json.loads`` each ``data:`` line). The bare http.client one,
with ``read1`` (whatever the socket has) and ``split``, is the realistic limit for a Python
client; ``AdapterFloor`` is the least a client built on requests can do per call.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

import requests
import urllib3
from clientbase import (
    AUTH,
    BARE,
    BODY,
    FLOOR,
    HEADERS,
    REQUESTS,
    STREAM_BODY,
    URLLIB3,
    Adapter,
)


def count_events(pieces: Iterable[bytes]) -> int:
    """The minimal loops' work: split what arrived into lines, json.loads each data line."""
    loads = json.loads
    rest = b""
    n = 0
    for data in pieces:
        lines = (rest + data).split(b"\n") if rest else data.split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line[:6] == b"data: " and line != b"data: [DONE]":
                loads(line[6:])
                n += 1
    return n


def first_content(pieces: Iterable[bytes], start: float) -> float:
    """Seconds from ``start`` to the first data line with content; reads the rest."""
    first: Optional[float] = None
    rest = b""
    for data in pieces:
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if first is None and line[:6] == b"data: " and line != b"data: [DONE]":
                if json.loads(line[6:])["choices"][0]["delta"].get("content"):
                    first = time.perf_counter() - start
    if first is None:
        raise RuntimeError("stream ended without a content chunk")
    return first


class Requests(Adapter):
    """A minimal loop over requests: Session.post + resp.json(); streams via iter_lines()."""

    name = REQUESTS

    def __init__(self, base_url: str) -> None:
        self.session = requests.Session()
        self.url = base_url + "/chat/completions"

    def call(self) -> str:
        resp = self.session.post(self.url, json=BODY, headers=AUTH)
        resp.raise_for_status()
        return resp.json()["choices"][0]["message"]["content"]

    def _lines(self) -> Iterable[bytes]:
        resp = self.session.post(self.url, json=STREAM_BODY, headers=AUTH, stream=True)
        return (line + b"\n" for line in resp.iter_lines())

    def stream(self) -> int:
        loads = json.loads
        n = 0
        resp = self.session.post(self.url, json=STREAM_BODY, headers=AUTH, stream=True)
        for line in resp.iter_lines():
            if line[:6] == b"data: " and line != b"data: [DONE]":
                loads(line[6:])
                n += 1
        return n

    def ttft(self) -> float:
        start = time.perf_counter()
        return first_content(self._lines(), start)

    def close(self) -> None:
        self.session.close()


class Urllib3(Adapter):
    """A minimal loop over urllib3: one HTTPConnectionPool; streams via ``stream()``."""

    name = URLLIB3

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port, maxsize=1)
        self.path = parts.path + "/chat/completions"

    def _post(self, body: dict[str, Any], stream: bool) -> Any:
        resp = self.pool.urlopen("POST", self.path, body=json.dumps(body).encode(),
                                 headers=HEADERS, preload_content=not stream)
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
        return resp

    def call(self) -> str:
        return json.loads(self._post(BODY, False).data)["choices"][0]["message"]["content"]

    def stream(self) -> int:
        resp = self._post(STREAM_BODY, True)
        n = count_events(resp.stream())
        resp.release_conn()
        return n

    def ttft(self) -> float:
        start = time.perf_counter()
        resp = self._post(STREAM_BODY, True)
        first = first_content(resp.stream(), start)
        resp.release_conn()
        return first

    def close(self) -> None:
        self.pool.close()


class Bare(Adapter):
    """The floor: one kept-alive http.client.HTTPConnection, json, and a read1 + split loop."""

    name = BARE

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port)
        self.path = parts.path + "/chat/completions"

    def _post(self, body: dict[str, Any]) -> http.client.HTTPResponse:
        self.conn.request("POST", self.path, json.dumps(body).encode(), HEADERS)
        resp = self.conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
        return resp

    def call(self) -> str:
        return json.loads(self._post(BODY).read())["choices"][0]["message"]["content"]

    def stream(self) -> int:
        return count_events(self._pieces())

    def _pieces(self, body: dict[str, Any] = STREAM_BODY) -> Iterable[bytes]:
        resp = self._post(body)
        return iter(lambda: resp.read1(65536), b"")

    def ttft(self) -> float:
        start = time.perf_counter()
        return first_content(self._pieces(), start)

    def close(self) -> None:
        self.conn.close()


class AdapterFloor(Adapter):
    """What chatmini's transport builds on: requests' HTTPAdapter.send with a PreparedRequest
    made once, then the body read and ``json.loads``: no client of its own (calls only)."""

    name = FLOOR

    def __init__(self, base_url: str) -> None:
        self.session = requests.Session()
        self.adapter = self.session.get_adapter(base_url)
        self.prepared = requests.Request("POST", base_url + "/chat/completions", headers=AUTH,
                                         json=BODY).prepare()

    def call(self) -> str:
        resp = self.adapter.send(self.prepared, timeout=None)
        return json.loads(resp.content)["choices"][0]["message"]["content"]

    def close(self) -> None:
        self.session.close()
