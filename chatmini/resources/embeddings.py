"""``client.embeddings``: vectors for texts or token arrays.

Unless the caller names an ``encoding_format``, the vectors are asked for as base64 (float32,
little-endian: a quarter of the bytes of JSON floats, as openai-python does) and decoded to
lists of floats here; a server that answers floats anyway is read as it is.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import TYPE_CHECKING, Any

from ..errors import APIResponseValidationError, InvalidRequestError
from ..objects import CreateEmbeddingResponse
from ..options import NOT_GIVEN, NotGiven
from .base import APIResource, check_model

if TYPE_CHECKING:
    import requests

    from ..request import Request


class Embeddings(APIResource):
    """``client.embeddings``."""

    def create(
        self, *, model: str, input: Any, encoding_format: Any = NOT_GIVEN,  # noqa: A002
        **params: Any,
    ) -> CreateEmbeddingResponse:
        """Embed ``input`` (a string, a list of strings, token ids or lists of token ids):
        ``.data[i].embedding`` is a list of floats, ``.usage.prompt_tokens`` the cost.
        ``dimensions``, ``user`` and any other keyword go into the body."""
        if isinstance(input, (list, tuple)) and not input or input == "":
            raise InvalidRequestError("input must not be empty")
        if not isinstance(input, (str, list, tuple)):
            raise InvalidRequestError(
                f"input must be a string or a list, not {type(input).__name__}"
            )
        asked = not isinstance(encoding_format, NotGiven)
        body = {"model": check_model(model), "input": input,
                "encoding_format": encoding_format if asked else "base64", **params}
        return self._client.request(  # type: ignore[no-any-return]
            "POST", "/embeddings", body, cast=CreateEmbeddingResponse,
            post_parser=None if asked else decode_vectors,
        )


def decode_vectors(
    answer: CreateEmbeddingResponse, response: requests.Response, request: Request
) -> CreateEmbeddingResponse:
    """Every base64 ``embedding`` of the answer decoded in place to a list of floats."""
    items = answer.to_dict().get("data")
    if not isinstance(items, list) or not items:
        raise APIResponseValidationError(
            "The embeddings answer has no data", response=response, request=request
        )
    for item in items:
        vector = item.get("embedding") if isinstance(item, dict) else None
        if isinstance(vector, str):
            item["embedding"] = _floats(vector, response, request)
    return answer


def _floats(text: str, response: requests.Response, request: Request) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
        if len(raw) % 4:
            raise ValueError("not a whole number of float32 values")
    except ValueError:  # binascii.Error is one
        raise APIResponseValidationError(
            f"An embedding is not base64 of float32 values ({len(text)} characters)",
            response=response, request=request,
        ) from None
    floats = array("f", raw)
    if sys.byteorder == "big":
        floats.byteswap()  # the wire is little-endian
    return floats.tolist()
