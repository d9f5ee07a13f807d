"""Per-call request options and openai-python's ``NOT_GIVEN`` sentinel.

Every method takes ``extra_headers``, ``extra_query``, ``extra_body`` and ``timeout``, as
openai-python's do. A resource passes its keyword arguments on as the call's params, and the
Client takes these four out in one place (``take_options``), so a new resource gets them
without a line of its own. ``NOT_GIVEN`` (also spelled ``not_given``, and ``omit``) marks an
argument as absent: it is left out of the body, as if it had not been passed; as a header's
value in ``extra_headers`` it removes that header, as None does.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Optional
from urllib.parse import urlencode

from .credentials import header_problem
from .errors import InvalidRequestError

OPTIONS = frozenset(("extra_headers", "extra_query", "extra_body", "timeout"))


class NotGiven:
    """The type of ``NOT_GIVEN``: an argument that was not given (unlike ``None``, a value).
    One instance only, so ``NotGiven()`` (or ``Omit()``) is ``NOT_GIVEN`` itself."""

    __slots__ = ()
    _the: ClassVar[Optional[NotGiven]] = None

    def __new__(cls) -> NotGiven:
        the = NotGiven._the
        if the is None:
            the = NotGiven._the = super().__new__(cls)
        return the

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()
not_given = NOT_GIVEN  # openai-python's newer spelling; one object here
omit = NOT_GIVEN  # openai-python's sentinel for "leave out" (a param, a default header)
Omit = NotGiven


def take_options(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call's keyword params split into the JSON body and its per-call options.

    ``NOT_GIVEN`` values are dropped from both; the body is a new dict only when something
    was taken out (the common call has neither options nor sentinels and costs two scans).
    """
    if OPTIONS.isdisjoint(params) and NOT_GIVEN not in params.values():  # C-speed scans
        return params if type(params) is dict else dict(params), {}
    body: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for name, value in params.items():
        if type(value) is NotGiven:
            continue
        (options if name in OPTIONS else body)[name] = value
    return body, options


def given(value: Any) -> Any:
    """``value``, or None when it is ``NOT_GIVEN``."""
    return None if type(value) is NotGiven else value


def checked_mapping(name: str, value: Any) -> Optional[Mapping[str, Any]]:
    """An ``extra_*`` option: None (or NOT_GIVEN) or a mapping; anything else is a clear error."""
    value = given(value)
    if value is None or isinstance(value, Mapping):
        return value
    raise InvalidRequestError(f"{name} must be a dict, not {type(value).__name__}")


def checked_headers(what: str, headers: Any) -> dict[str, Any]:
    """``extra_headers`` or ``default_headers`` checked before anything is sent: a mapping of
    header names to text (surrounding spaces and tabs stripped; an int as its digits) or None
    (remove that header); anything else is an InvalidRequestError naming the header, never
    its value."""
    mapping = checked_mapping(what, headers) or {}
    out: dict[str, Any] = {}
    for name, value in mapping.items():
        if value is None or type(value) is NotGiven:
            out[name] = None
            continue
        if type(value) is int:
            value = str(value)
        problem = header_problem(name, value)
        if problem is not None:
            shown = repr(name) if isinstance(name, str) else type(name).__name__
            raise InvalidRequestError(
                f"{what}[{shown}] {problem}; it cannot be sent in an HTTP header, so nothing "
                "was sent"
            )
        out[name] = value.strip(b" \t" if isinstance(value, bytes) else " \t")
    return out


def merge_headers(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, names compared without regard to case (one header per name);
    a None value removes that header."""
    out = dict(base)
    for name, value in extra.items():
        lower = name.lower()
        for key in [k for k in out if k.lower() == lower]:
            del out[key]
        if value is not None:
            out[name] = value
    return out


def merge_body(body: Optional[Mapping[str, Any]], extra: Optional[Mapping[str, Any]]) -> Any:
    """``extra_body`` merged into the body's top level (its values win, as in openai-python)."""
    if not extra:
        return body
    if body is not None and not isinstance(body, Mapping):
        raise InvalidRequestError("extra_body needs a JSON object body to merge into")
    return {**(body or {}), **extra}


def query_suffix(*queries: Optional[Mapping[str, Any]]) -> str:
    """``?a=1&b=x`` from query mappings, later ones winning; ``""`` when there is none.

    Booleans are ``true``/``false`` (as JSON and openai-python spell them), lists repeat the
    key, None and NOT_GIVEN leave the key out.
    """
    merged: dict[str, Any] = {}
    for query in queries:
        if query:
            merged.update(query)
    pairs: list[tuple[str, str]] = []
    for key, value in merged.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if item is None or type(item) is NotGiven:
                continue
            pairs.append((str(key), _query_text(item)))
    return "?" + urlencode(pairs) if pairs else ""


def _query_text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)
