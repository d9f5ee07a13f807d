"""``client.completions``: the legacy Completions API (a prompt in, text out), streamed or not."""

from __future__ import annotations

from typing import Any, Literal, Union, overload

from ..objects import Completion
from ..streaming.completions import CompletionStream
from .base import APIResource, check_model


class Completions(APIResource):
    """``client.completions`` (``gpt-3.5-turbo-instruct``, and what local servers serve)."""

    @overload
    def create(
        self, *, model: str, prompt: Any, stream: Literal[False] = ..., **params: Any
    ) -> Completion: ...

    @overload
    def create(
        self, *, model: str, prompt: Any, stream: Literal[True], **params: Any
    ) -> CompletionStream: ...

    def create(
        self, *, model: str, prompt: Any, stream: bool = False, **params: Any
    ) -> Union[Completion, CompletionStream]:
        """Complete ``prompt`` (a string, a list of them, or token ids): ``.choices[0].text``;
        with ``stream=True`` an iterator of Completion chunks (``chunk.choices[0].text``)."""
        body: dict[str, Any] = {"model": check_model(model), "prompt": prompt}
        if stream:
            body["stream"] = True
        body.update(params)
        return self._client.request(  # type: ignore[no-any-return]
            "POST", "/completions", body, stream=stream, cast=Completion,
            stream_cls=CompletionStream,
        )
