"""Legacy ``/completions`` objects (a prompt in, ``choices[i].text`` out), answers and chunks."""

from __future__ import annotations

from .base import APIObject, APIResponseObject, known
from .chat import CompletionUsage


class CompletionLogprobs(APIObject):
    __slots__ = ()
    _fields = known("tokens token_logprobs top_logprobs text_offset")


class CompletionChoice(APIObject):
    __slots__ = ()
    _fields = known("index text finish_reason logprobs")
    _nested = {"logprobs": CompletionLogprobs}


class Completion(APIResponseObject):
    """A ``text_completion``: the answer of ``client.completions.create``, and each streamed
    chunk of one (where ``choices[i].text`` is the next piece)."""

    __slots__ = ()
    _fields = known("id object created model choices usage system_fingerprint")
    _nested = {"choices": CompletionChoice, "usage": CompletionUsage}
