"""Token usage, the one reader every plugin that counts tokens shares: from an answer's bytes
or from a ``usage`` dict, in Chat Completions' naming (``prompt_tokens``/``completion_tokens``)
or the Responses API's (``input_tokens``/``output_tokens``).

Every count goes through ``count``: a plain integer from 0 to 15 digits, else None, so a
server's absurd number (``10**400``, ``-5``, ``1e9``, ``"12"``) is no count anywhere (metrics
would raise on it: an OverflowError, a negative counter increment).

Timing and the rate limiters need the counts of each non-streamed answer; reading them with a
few small searches near the last ``"usage"`` key costs a few microseconds where parsing the
whole body again would cost far more.
"""

from __future__ import annotations

import re
from typing import Any, Optional

_NUMBER = rb"(\d{1,15})(?![\d.eE])"  # a count; longer numbers or fractions (1e9, 2.5) are not
_COUNT = re.compile(rb"\s*:\s*" + _NUMBER)
_BOTH = re.compile(
    rb'"prompt_tokens"\s*:\s*' + _NUMBER + rb'\s*,\s*"completion_tokens"\s*:\s*' + _NUMBER
)
_USAGE_SPAN = 1024
_MAX_COUNT = 10**15
Counts = tuple[Optional[int], Optional[int]]


def usage_from_body(body: bytes) -> Counts:
    """(prompt or input tokens, completion or output tokens) from a JSON body's ``usage``,
    without parsing it again; None for a count that is missing or not a plain integer of at
    most 15 digits."""
    at = body.rfind(b'"usage"')
    if at < 0:
        return None, None
    both = _BOTH.search(body, at, at + _USAGE_SPAN)  # OpenAI's chat order: one search
    if both:
        return int(both[1]), int(both[2])
    prompt = _body_count(body, b'"prompt_tokens"', at)
    completion = _body_count(body, b'"completion_tokens"', at)
    if prompt is None and completion is None:  # the Responses API's names
        return _body_count(body, b'"input_tokens"', at), _body_count(body, b'"output_tokens"', at)
    return prompt, completion


def token_counts(usage: Any) -> Counts:
    """(prompt or input tokens, completion or output tokens) of a ``usage`` dict."""
    if not isinstance(usage, dict):
        return None, None
    prompt = count(usage.get("prompt_tokens"))
    completion = count(usage.get("completion_tokens"))
    if prompt is None and completion is None:
        return count(usage.get("input_tokens")), count(usage.get("output_tokens"))
    return prompt, completion


def total_tokens(usage: Any) -> Optional[int]:
    """A ``usage`` dict's ``total_tokens``, else its two counts added; None without either."""
    if not isinstance(usage, dict):
        return None
    total = count(usage.get("total_tokens"))
    if total is not None:
        return total
    counts = [n for n in token_counts(usage) if n is not None]
    return sum(counts) if counts else None


def count(value: Any) -> Optional[int]:
    """A token count: a plain integer from 0 to 15 digits; None for anything else."""
    return value if type(value) is int and 0 <= value < _MAX_COUNT else None


def _body_count(body: bytes, key: bytes, at: int) -> Optional[int]:
    found = body.find(key, at, at + _USAGE_SPAN)
    if found < 0:
        return None
    number = _COUNT.match(body, found + len(key))
    return int(number[1]) if number else None
