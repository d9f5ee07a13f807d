"""``client.models``: the models a server offers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..objects import ModelList

if TYPE_CHECKING:
    from ..client import Client
    from ..timeouts import TimeoutLike


class Models:
    """``client.models``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self, *, timeout: TimeoutLike = None) -> ModelList:
        """The models the server offers; ``.data`` holds entries with ``.id``."""
        return self._client.request(  # type: ignore[no-any-return]
            "GET", "/models", None, timeout=timeout, cast=ModelList
        )
