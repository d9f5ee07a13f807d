"""What the test server reads and writes besides plain JSON: compressed request bodies
(``Content-Encoding``), MessagePack request bodies, and MessagePack answers when asked for."""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

from .. import codings

MSGPACK_TYPES = ("application/msgpack", "application/x-msgpack", "application/vnd.msgpack")
MSGPACK = MSGPACK_TYPES[0]


def read_body(
    headers: Message, body: bytes, accepted: frozenset[str]
) -> tuple[Any, tuple[int, str] | None]:
    """(parsed body, None), or (None, (status, message)) for a body the server refuses.

    A ``Content-Encoding`` outside ``accepted`` (or not installed here) is a 415; one that does
    not decode is a 400. The decoded bytes are parsed as MessagePack or JSON by Content-Type.
    """
    coding = (headers.get("Content-Encoding") or "identity").strip().lower()
    if coding != "identity":
        if coding not in accepted or not codings.available(coding):
            return None, (415, f"Unsupported Content-Encoding: {coding}")
        try:
            body = codings.decompress(coding, body)
        except ValueError:
            return None, (400, f"The request body could not be decoded as {coding}.")
    return parse(headers.get("Content-Type") or "", body), None


def parse(content_type: str, body: bytes) -> Any:
    """The body as MessagePack or JSON (by its content type), or None when it is neither."""
    if not body:
        return None
    if media_type(content_type) in MSGPACK_TYPES:
        import msgpack  # the test extra installs it; only msgpack requests need it

        try:
            return msgpack.unpackb(body)
        except Exception:  # any malformed MessagePack: treated like malformed JSON
            return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def media_type(value: str) -> str:
    """``application/json`` from ``application/json; charset=utf-8``."""
    return value.split(";", 1)[0].strip().lower()


def prefers_msgpack(accept: str | None) -> bool:
    """Whether an Accept header ranks MessagePack above JSON (by q, then by order)."""
    ranks: dict[str, tuple[float, int]] = {}
    for position, item in enumerate((accept or "").split(",")):
        kind, *params = item.split(";")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind = media_type(kind)
        group = "msgpack" if kind in MSGPACK_TYPES else "json" if kind == "application/json" else ""
        if group and group not in ranks:
            ranks[group] = (quality, -position)
    msgpack_rank = ranks.get("msgpack", (0.0, 0))
    return msgpack_rank[0] > 0 and msgpack_rank > ranks.get("json", (0.0, 0))


def answer(payload: Any, accept: str | None) -> tuple[bytes, str]:
    """A success payload as bytes and content type: MessagePack when preferred, else JSON."""
    if prefers_msgpack(accept):
        import msgpack

        return msgpack.packb(payload), MSGPACK
    return json.dumps(payload).encode(), "application/json"
