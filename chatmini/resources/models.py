"""``client.models``: the models a server offers, and one model by id."""

from __future__ import annotations

from typing import Any

from ..objects import Model, ModelList
from ..urls import path_segment
from .base import APIResource, check_model


class Models(APIResource):
    """``client.models``."""

    def list(self, **options: Any) -> ModelList:
        """The models the server offers; ``.data`` holds entries with ``.id``."""
        return self._client.request(  # type: ignore[no-any-return]
            "GET", "/models", None, cast=ModelList, **options
        )

    def retrieve(self, model: str, **options: Any) -> Model:
        """One model (``.id``, ``.owned_by``, ``.created``); a NotFoundError when unknown."""
        return self._client.request(  # type: ignore[no-any-return]
            "GET", f"/models/{path_segment(check_model(model))}", None, cast=Model, **options
        )
