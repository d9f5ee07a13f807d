"""One-line helpers for scripts: a prompt in, the reply text out (or its pieces as they arrive)."""

from __future__ import annotations

import os
from typing import Any, Iterator, Literal, Optional, overload

from .client import Client
from .errors import InvalidRequestError
from .module_client import default_client
from .streaming.pieces import StreamPiece

DEFAULT_MODEL = "gpt-4o-mini"


def default_model() -> str:
    """CHATMINI_MODEL, else gpt-4o-mini."""
    return os.environ.get("CHATMINI_MODEL") or DEFAULT_MODEL


def _call(
    prompt: str, model: Optional[str], system: Optional[str], client: Optional[Client],
    api: str, params: dict[str, Any],
) -> Any:
    """One call of ``api``: the prompt as the user message (chat) or the input (responses),
    ``system`` as the system message or the instructions."""
    used = client or default_client()
    model = model or default_model()
    if api == "responses":
        return used.responses.create(model=model, input=prompt, instructions=system, **params)
    if api != "chat":
        raise InvalidRequestError(f"api must be 'chat' or 'responses', not {api!r}")
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return used.chat.completions.create(model=model, messages=messages, **params)


def ask(
    prompt: str,
    *,
    model: Optional[str] = None,
    system: Optional[str] = None,
    client: Optional[Client] = None,
    api: str = "chat",
    **params: Any,
) -> str:
    """Send one user prompt and return the reply's text ("" when the reply has none);
    ``api="responses"`` asks through the Responses API instead of Chat Completions."""
    answer = _call(prompt, model, system, client, api, params)
    if api == "responses":
        return answer.output_text  # type: ignore[no-any-return]
    choices = answer.choices
    return (choices[0].message.content or "") if choices else ""


@overload
def ask_stream(
    prompt: str, *, model: Optional[str] = ..., system: Optional[str] = ...,
    client: Optional[Client] = ..., api: str = ..., with_reasoning: Literal[False] = ...,
    **params: Any,
) -> Iterator[str]: ...


@overload
def ask_stream(
    prompt: str, *, model: Optional[str] = ..., system: Optional[str] = ...,
    client: Optional[Client] = ..., api: str = ..., with_reasoning: Literal[True],
    **params: Any,
) -> Iterator[StreamPiece]: ...


def ask_stream(
    prompt: str,
    *,
    model: Optional[str] = None,
    system: Optional[str] = None,
    client: Optional[Client] = None,
    api: str = "chat",
    with_reasoning: bool = False,
    **params: Any,
) -> Iterator[Any]:
    """Like ``ask``, but yields the reply's text pieces as they arrive; ``with_reasoning=True``
    yields ``StreamPiece(text, reasoning)``s of the reasoning text too (``stream.pieces()``)."""
    with _call(prompt, model, system, client, api, {**params, "stream": True}) as stream:
        yield from stream.pieces() if with_reasoning else stream.text_deltas()
