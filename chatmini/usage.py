"""Token usage read from an answer's bytes, shared by every plugin that counts tokens.

Timing and the rate limiters need ``prompt_tokens``/``completion_tokens`` of each non-streamed
answer; reading them with two small searches near the last ``"usage"`` key costs a few
microseconds where parsing the whole body again would cost far more.
"""

from __future__ import annotations

import re
from typing import Optional

_NUMBER = rb"(\d{1,15})(?!\d)"  # a count; longer numbers are not counts (and overflow floats)
_COUNT = re.compile(rb"\s*:\s*" + _NUMBER)
_BOTH = re.compile(
    rb'"prompt_tokens"\s*:\s*' + _NUMBER + rb'\s*,\s*"completion_tokens"\s*:\s*' + _NUMBER
)
_USAGE_SPAN = 1024


def usage_from_body(body: bytes) -> tuple[Optional[int], Optional[int]]:
    """(prompt_tokens, completion_tokens) from a JSON body's ``usage`` without parsing it again;
    None for a count that is missing or not a plain integer of at most 15 digits."""
    at = body.rfind(b'"usage"')
    if at < 0:
        return None, None
    both = _BOTH.search(body, at, at + _USAGE_SPAN)  # OpenAI's order: one search
    if both:
        return int(both[1]), int(both[2])
    return _count(body, b'"prompt_tokens"', at), _count(body, b'"completion_tokens"', at)


def _count(body: bytes, key: bytes, at: int) -> Optional[int]:
    found = body.find(key, at, at + _USAGE_SPAN)
    if found < 0:
        return None
    number = _COUNT.match(body, found + len(key))
    return int(number[1]) if number else None
