"""One-line helpers for scripts: a prompt in, the reply text out (or its pieces as they arrive)."""

from __future__ import annotations

import os
from typing import Any, Iterator, Optional

from .client import Client
from .module_client import default_client

DEFAULT_MODEL = "gpt-4o-mini"


def default_model() -> str:
    """CHATMINI_MODEL, else gpt-4o-mini."""
    return os.environ.get("CHATMINI_MODEL") or DEFAULT_MODEL


def _messages(prompt: str, system: Optional[str]) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return messages


def ask(
    prompt: str,
    *,
    model: Optional[str] = None,
    system: Optional[str] = None,
    client: Optional[Client] = None,
    **params: Any,
) -> str:
    """Send one user prompt and return the reply's text ("" when the reply has none)."""
    completion = (client or default_client()).chat.completions.create(
        model=model or default_model(), messages=_messages(prompt, system), **params
    )
    choices = completion.choices
    return (choices[0].message.content or "") if choices else ""


def ask_stream(
    prompt: str,
    *,
    model: Optional[str] = None,
    system: Optional[str] = None,
    client: Optional[Client] = None,
    **params: Any,
) -> Iterator[str]:
    """Like ``ask``, but yields the reply's text pieces as they arrive."""
    stream = (client or default_client()).chat.completions.create(
        model=model or default_model(), messages=_messages(prompt, system), stream=True, **params
    )
    with stream:
        yield from stream.text_deltas()
