"""pydantic models as output formats and tool arguments, when pydantic is installed (the
``chatmini[pydantic]`` extra); nothing here imports pydantic before a model is given, which
means pydantic is already loaded."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidRequestError
from .strict import strict_schema
from .validate import Mismatch


def model_schema(model: type, what: str) -> dict[str, Any]:
    """The model's JSON schema, made strict: every field required (a default does not make a
    field optional in strict mode), ``additionalProperties: false``."""
    if not hasattr(model, "model_json_schema"):
        raise InvalidRequestError(f"{what}: pydantic models need pydantic 2 (this is pydantic 1)")
    return strict_schema(model.model_json_schema(), what, fill_required=True)


def parse_model(model: Any, text: str) -> Any:
    """The model validated from JSON text; Mismatch at the first error's location."""
    import pydantic

    try:
        return model.model_validate_json(text)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0] if errors else {"loc": (), "msg": str(exc)}
        path = tuple(p for p in first.get("loc", ()) if isinstance(p, (str, int)))
        why = str(first.get("msg", "invalid"))
        if first.get("type") == "json_invalid":
            why = f"not JSON ({_json_error(text)})"
        raise Mismatch(path, why) from None


def _json_error(text: str) -> str:
    try:
        json.loads(text)
    except ValueError as exc:
        return str(exc)
    return "invalid JSON"
