"""The clients under test: chatmini (as its README shows it, and reading every chunk's content,
with and without orjson) and the openai SDK; the minimal loops they are measured against are in
``loops``, the shared interface in ``clientbase``.
"""

from __future__ import annotations

import time
from typing import Any

from clientbase import (
    BARE,
    CHATMINI,
    EXPECTED_TEXT,
    FLOOR,
    MESSAGES,
    MODEL,
    OPENAI,
    OPENAI_MISSING,
    ORJSON,
    READING,
    REQUESTS,
    URLLIB3,
    Adapter,
)
from loops import AdapterFloor, Bare, Requests, Urllib3

import chatmini
from chatmini import jsoncodec

__all__ = [
    "BARE", "CHATMINI", "EXPECTED_TEXT", "FLOOR", "OPENAI", "OPENAI_MISSING", "ORJSON",
    "READING", "REQUESTS", "URLLIB3", "Adapter", "AdapterFloor", "Bare", "Chatmini",
    "ChatminiOrjson", "ChatminiReadingContent", "OpenAI", "Requests", "Urllib3",
    "make_adapters", "openai_installed",
]


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
