"""``/models`` objects: one model, and the list (iterable, as openai-python's page is)."""

from __future__ import annotations

from typing import Iterator

from .base import APIResponseObject, known


class Model(APIResponseObject):
    """One entry of ``/models``, or the answer of ``models.retrieve(id)``."""

    __slots__ = ()
    _fields = known("id object created owned_by shutdown_date")


class ModelList(APIResponseObject):
    """The ``/models`` list; iterating yields its Model entries."""

    __slots__ = ()
    _fields = known("object data")

    @property
    def data(self) -> list[Model]:
        return [Model(item) for item in self._data.get("data") or () if isinstance(item, dict)]

    def __iter__(self) -> Iterator[Model]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
