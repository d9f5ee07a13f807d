"""``client.moderations``: whether inputs break the usage policies, per category."""

from __future__ import annotations

from typing import Any

from ..objects import ModerationCreateResponse
from .base import APIResource


class Moderations(APIResource):
    """``client.moderations``."""

    def create(self, *, input: Any, **params: Any) -> ModerationCreateResponse:  # noqa: A002
        """Classify ``input`` (a string, a list of them, or multimodal parts): ``.results[i]``
        has ``flagged``, ``categories`` and ``category_scores``. ``model`` is optional."""
        body = {"input": input, **params}
        return self._client.request(  # type: ignore[no-any-return]
            "POST", "/moderations", body, cast=ModerationCreateResponse
        )
