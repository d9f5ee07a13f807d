"""The clients under test, each doing the same three things against the test server.

``call()`` makes one non-streamed chat completion and returns its text; ``stream()`` reads a
streamed reply to the end and returns how many chunks it parsed; ``ttft()`` times one short
stream from request start to the first chunk carrying content, then drains the rest so the
kept-alive connection stays usable. Every client keeps one connection open across calls.

The minimal loops (bare http.client, requests, urllib3) are what a hand-written client would
do: read what arrived, split lines, ``json.loads`` each ``data:`` line. The bare one, with
``read1`` (whatever the socket has) and ``split``, is the realistic limit for a Python client.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

import requests
import urllib3

import chatmini
from chatmini import jsoncodec

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hi"}]
BODY: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
STREAM_BODY: dict[str, Any] = {**BODY, "stream": True}
AUTH = {"Authorization": "Bearer k"}
HEADERS = {"Content-Type": "application/json", **AUTH}
EXPECTED_TEXT = "echo: hi"
OPENAI_MISSING = "openai not installed (pip install chatmini[bench])"
CHATMINI = "chatmini"
READING = "chatmini, reads delta.content"
ORJSON = "chatmini + orjson, reads delta.content"
OPENAI = "openai"
BARE = "bare http.client (read1 + split)"
REQUESTS = "requests (iter_lines loop)"
URLLIB3 = "urllib3 (stream() loop)"
FLOOR = "requests HTTPAdapter.send (chatmini's floor)"


class Adapter:
    """One client under test (the interface every adapter implements)."""

    name = "?"

    def call(self) -> str:
        """One non-streamed completion; returns the reply text."""
        raise NotImplementedError

    def stream(self) -> int:
        """One streamed completion read to the end; returns the number of chunks parsed."""
        raise NotImplementedError

    def ttft(self) -> float:
        """Seconds from request start to the first chunk with non-empty content."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the client's connections."""


class OpenAIShaped(Adapter):
    """A client with openai-python's call shape: ``self.create`` is chat.completions.create."""

    client: Any
    create: Any

    def call(self) -> str:
        return self.create(model=MODEL, messages=MESSAGES).choices[0].message.content or ""

    def stream(self) -> int:
        n = 0
        for _ in self.create(model=MODEL, messages=MESSAGES, stream=True):
            n += 1
        return n

    def ttft(self) -> float:
        start = time.perf_counter()
        stream = self.create(model=MODEL, messages=MESSAGES, stream=True)
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - start
                for _ in stream:
                    pass
                return first
        raise RuntimeError("stream ended without a content chunk")

    def close(self) -> None:
        self.client.close()


class Chatmini(OpenAIShaped):
    """chatmini.Client, exactly as its README shows (JSON by the standard library)."""

    name = CHATMINI

    def __init__(self, base_url: str) -> None:
        self.client = chatmini.Client(api_key="k", base_url=base_url)
        self.create = self.client.chat.completions.create


class ChatminiReadingContent(Chatmini):
    """chatmini again, but reading ``chunk.choices[0].delta.content`` of every chunk."""

    name = READING

    def stream(self) -> int:
        n = 0
        for chunk in self.create(model=MODEL, messages=MESSAGES, stream=True):
            choices = chunk.choices
            if choices:
                choices[0].delta.content  # noqa: B018 - the attribute read is what is timed
            n += 1
        return n


class ChatminiOrjson(ChatminiReadingContent):
    """chatmini reading content, with the orjson accelerator (``chatmini[speed]``) on."""

    name = ORJSON

    def stream(self) -> int:
        before = jsoncodec.use_orjson(True)  # a stream keeps the decoder it started with
        try:
            return super().stream()
        finally:
            jsoncodec.use_orjson(before)


class OpenAI(OpenAIShaped):
    """The official openai SDK (``openai.OpenAI``), default settings."""

    name = OPENAI

    def __init__(self, base_url: str) -> None:
        import openai

        self.client = openai.OpenAI(api_key="k", base_url=base_url)
        self.create = self.client.chat.completions.create


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

    def _pieces(self) -> Iterable[bytes]:
        resp = self._post(STREAM_BODY)
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


def openai_installed() -> bool:
    """Whether the openai SDK can be imported (it is optional: chatmini[bench])."""
    try:
        import openai  # noqa: F401
    except ImportError:
        return False
    return True


def make_adapters(base_url: str, *, stream_variants: bool = False) -> list[Adapter]:
    """chatmini first, openai if installed, then the minimal loops, bare http.client last;
    ``stream_variants`` adds chatmini reading content (with and without orjson)."""
    adapters: list[Adapter] = [Chatmini(base_url)]
    if stream_variants:
        adapters.append(ChatminiReadingContent(base_url))
        if jsoncodec_has_orjson():
            adapters.append(ChatminiOrjson(base_url))
    if openai_installed():
        adapters.append(OpenAI(base_url))
    adapters += [Requests(base_url), Urllib3(base_url), Bare(base_url)]
    return adapters


def jsoncodec_has_orjson() -> bool:
    """Whether orjson is installed (the chatmini[speed] accelerator)."""
    try:
        import orjson  # noqa: F401
    except ImportError:
        return False
    return True
