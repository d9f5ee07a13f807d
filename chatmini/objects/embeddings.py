"""``/embeddings`` answers: ``.data[i].embedding`` (floats) and ``.usage``."""

from __future__ import annotations

from .base import APIObject, APIResponseObject, known


class Embedding(APIObject):
    """One input's vector: ``embedding`` is a list of floats (decoded from base64 if sent so)."""

    __slots__ = ()
    _fields = known("object embedding index")


class EmbeddingUsage(APIObject):
    __slots__ = ()
    _fields = known("prompt_tokens total_tokens")


class CreateEmbeddingResponse(APIResponseObject):
    """The answer of ``client.embeddings.create``."""

    __slots__ = ()
    _fields = known("object data model usage")
    _nested = {"data": Embedding, "usage": EmbeddingUsage}
