"""The clients under test, each doing the same three things against the embedded server.

``call()`` makes one non-streamed chat completion and returns its text; ``stream()`` reads a
streamed reply to the end and returns how many chunks it parsed; ``ttft()`` times one short
stream from request start to the first chunk carrying content, then drains the rest so the
kept-alive connection stays usable. Every client keeps one connection open across calls.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any, Optional
from urllib.parse import urlsplit

import requests

import chatmini

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hi"}]
BODY: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
STREAM_BODY: dict[str, Any] = {**BODY, "stream": True}
AUTH = {"Authorization": "Bearer k"}
EXPECTED_TEXT = "echo: hi"
OPENAI_MISSING = "openai not installed (pip install chatmini[bench])"


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
        first = _first_content(stream, start)
        for _ in stream:
            pass
        return first

    def close(self) -> None:
        self.client.close()


class Chatmini(OpenAIShaped):
    """chatmini.Client, exactly as its README shows."""

    name = "chatmini"

    def __init__(self, base_url: str) -> None:
        self.client = chatmini.Client(api_key="k", base_url=base_url)
        self.create = self.client.chat.completions.create


class ChatminiReadingContent(Chatmini):
    """chatmini again, but reading ``chunk.choices[0].delta.content`` of every chunk."""

    name = "chatmini, reads delta.content"

    def stream(self) -> int:
        n = 0
        for chunk in self.create(model=MODEL, messages=MESSAGES, stream=True):
            choices = chunk.choices
            if choices:
                choices[0].delta.content  # noqa: B018 - the attribute read is what is timed
            n += 1
        return n


class OpenAI(OpenAIShaped):
    """The official openai SDK (``openai.OpenAI``), default settings."""

    name = "openai"

    def __init__(self, base_url: str) -> None:
        import openai

        self.client = openai.OpenAI(api_key="k", base_url=base_url)
        self.create = self.client.chat.completions.create



class Requests(Adapter):
    """A minimal loop over requests: Session.post + resp.json(); streams via iter_lines()."""

    name = "requests (minimal loop)"

    def __init__(self, base_url: str) -> None:
        self.session = requests.Session()
        self.url = base_url + "/chat/completions"

    def call(self) -> str:
        resp = self.session.post(self.url, json=BODY, headers=AUTH)
        resp.raise_for_status()
        return resp.json()["choices"][0]["message"]["content"]

    def stream(self) -> int:
        resp = self.session.post(self.url, json=STREAM_BODY, headers=AUTH, stream=True)
        n = 0
        for line in resp.iter_lines():
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                json.loads(line[6:])
                n += 1
        return n

    def ttft(self) -> float:
        start = time.perf_counter()
        resp = self.session.post(self.url, json=STREAM_BODY, headers=AUTH, stream=True)
        first: Optional[float] = None
        for line in resp.iter_lines():
            if first is None and line.startswith(b"data: ") and line != b"data: [DONE]":
                if json.loads(line[6:])["choices"][0]["delta"].get("content"):
                    first = time.perf_counter() - start
        return _checked(first)

    def close(self) -> None:
        self.session.close()


class Bare(Adapter):
    """The floor: one kept-alive http.client.HTTPConnection, json, and a readline loop."""

    name = "bare http.client"

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port)
        self.path = parts.path + "/chat/completions"
        self.headers = {"Content-Type": "application/json", **AUTH}

    def _post(self, body: dict[str, Any]) -> http.client.HTTPResponse:
        self.conn.request("POST", self.path, json.dumps(body).encode(), self.headers)
        resp = self.conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
        return resp

    def call(self) -> str:
        return json.loads(self._post(BODY).read())["choices"][0]["message"]["content"]

    def stream(self) -> int:
        readline = self._post(STREAM_BODY).readline
        loads = json.loads
        n = 0
        while True:
            line = readline()
            if not line:
                return n
            if line.startswith(b"data: ") and not line.startswith(b"data: [DONE]"):
                loads(line[6:])
                n += 1

    def ttft(self) -> float:
        start = time.perf_counter()
        readline = self._post(STREAM_BODY).readline
        first: Optional[float] = None
        while True:
            line = readline()
            if not line:
                return _checked(first)
            if first is None and line.startswith(b"data: ") and b"[DONE]" not in line:
                if json.loads(line[6:])["choices"][0]["delta"].get("content"):
                    first = time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def _first_content(stream: Any, start: float) -> float:
    """Iterate SDK-style chunk objects until one carries content; seconds since ``start``."""
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            return time.perf_counter() - start
    raise RuntimeError("stream ended without a content chunk")


def _checked(first: Optional[float]) -> float:
    if first is None:
        raise RuntimeError("stream ended without a content chunk")
    return first


def openai_installed() -> bool:
    """Whether the openai SDK can be imported (it is optional: chatmini[bench])."""
    try:
        import openai  # noqa: F401
    except ImportError:
        return False
    return True


def make_adapters(base_url: str, *, stream_variants: bool = False) -> list[Adapter]:
    """chatmini first (the base of every ratio), then openai if installed, requests, bare."""
    adapters: list[Adapter] = [Chatmini(base_url)]
    if stream_variants:
        adapters.append(ChatminiReadingContent(base_url))
    if openai_installed():
        adapters.append(OpenAI(base_url))
    adapters += [Requests(base_url), Bare(base_url)]
    return adapters
