"""JSON in and out of chatmini: the standard library's results, as fast as they can be had.

Decoding: streams decode one small JSON object per event, so the call around the parser
counts: ``json.loads`` matches two regular expressions and goes through two Python layers
before the C scanner runs; ``decoder()`` calls the scanner directly and falls back to
``json.loads`` for anything but one bare JSON value (surrounding whitespace, extra data,
errors), so results and errors are the standard library's.

With orjson installed (``pip install 'chatmini[speed]'``) valid JSON is decoded by orjson, and
the standard library decides wherever the two differ, so results stay the standard library's
on every input: integers beyond 64 bits stay exact (orjson would give a float), ``NaN``,
``Infinity`` and numbers beyond the float range decode to float nan/inf, and lone surrogate
escapes are kept (orjson refuses these); a duplicate key keeps its last value and bytes that
are not UTF-8 (or UTF-16/32, which ``json.loads`` also reads) are an error with either. Texts
over 1 MiB go to the standard library: orjson needs about 13 times its input in memory.

Lone surrogates: JSON text may escape half of a UTF-16 pair (``"\\ud83d"``: a JavaScript server
splitting an emoji), which decodes to a str that no UTF-8 encoder accepts; ``without_surrogates``
replaces each with U+FFFD, for whatever prints or writes server text.

Encoding: ``encode_body`` is ``json.dumps(value, separators=(",", ":"), ensure_ascii=False,
allow_nan=False)`` as UTF-8 bytes, through the C encoder made once (``json.dumps`` with options
makes an encoder per call). ``NaN`` and ``Infinity`` are refused (they are not JSON: servers
reject the body, or worse, read it differently), and a lone surrogate is sent as its ``\\uXXXX``
escape, as openai-python's ASCII-only JSON sends it.
"""

from __future__ import annotations

import json
import re
from json import encoder as _encoder
from typing import Any, Callable, Optional, Union

__all__ = [
    "decoder", "encode_body", "escape_surrogates", "loads", "use_orjson", "without_surrogates",
]

Text = Union[str, bytes, bytearray]
Loads = Callable[[Text], Any]

# The C scanner behind json.loads (a default decoder's): (value, end) for the value at an index.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_stdlib_loads = json.loads
_DIGITS = b"0123456789"
_RUNS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))  # each digit to b"0"
_LONG_RUN = b"0" * 19  # an integer this long may not fit 64 bits: orjson would make it a float
ORJSON_MAX = 1 << 20  # orjson's peak memory is about 13x its input; the standard library's 2x


def stdlib_loads(text: Text) -> Any:
    """``json.loads(text)``, calling the C scanner directly for a bare JSON value in a str (or
    in bytes that ``json.loads`` would read as UTF-8: an object or array with no BOM)."""
    if type(text) is bytes and text[:1] in (b"{", b"[") and text[1:2] not in (b"", b"\x00"):
        text = text.decode("utf-8", "surrogatepass")  # what json.loads decodes it with
    if type(text) is str:
        try:
            value, end = _scan(text, 0)
        except StopIteration:  # not a JSON value there: json.loads raises its own error
            pass
        else:
            if end == len(text):
                return value
    return _stdlib_loads(text)


def orjson_loads(text: Text) -> Any:
    """``json.loads(text)``'s result, through orjson where that gives the same value."""
    if len(text) > ORJSON_MAX:
        return stdlib_loads(text)
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    # Fewer than 19 digits in all cannot hold an integer orjson would turn into a float.
    if len(data) - len(data.translate(None, _DIGITS)) < 19 or (
        _LONG_RUN not in data.translate(_RUNS)
    ):
        try:
            return _orjson_parse(data)
        except ValueError:  # NaN, Infinity, 1e400, lone surrogates, UTF-16, invalid: the
            pass  # standard library accepts some of these, and raises its own error otherwise
    return stdlib_loads(text)


_orjson_parse: Callable[[bytes], Any] = _stdlib_loads
_chosen: Optional[Loads] = None


def decoder() -> Loads:
    """The fastest decoder available: orjson's when installed (imported on first use, never at
    ``import chatmini``), else the standard library's; both give ``json.loads``'s results."""
    global _chosen, _orjson_parse
    if _chosen is None:
        try:
            import orjson
        except ImportError:
            _chosen = stdlib_loads
        else:
            _orjson_parse = orjson.loads
            _chosen = orjson_loads
    return _chosen


def use_orjson(enabled: bool) -> bool:
    """Use orjson when installed (the default), or only the standard library (to compare the
    two, e.g. in benchmarks); returns whether it was used before. Streams already open keep the
    decoder they started with."""
    global _chosen
    before = decoder() is orjson_loads
    _chosen = None if enabled else stdlib_loads
    return before


def loads(text: Text) -> Any:
    """Decode one JSON document as ``json.loads`` would (see the module)."""
    return decoder()(text)


def _not_json(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_c_encoder = getattr(_encoder, "c_make_encoder", None)
# No circular-reference markers (a dict the C encoder would share between threads): a cycle
# ends in RecursionError instead of ValueError. NaN and infinities are refused (ValueError).
_encode_c = _c_encoder(
    None, _not_json, _encoder.encode_basestring, None, ":", ",", False, False, False
) if _c_encoder is not None else None


def encode_body(value: Any) -> bytes:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)`` as
    UTF-8 bytes, lone surrogates escaped; TypeError for what is not JSON, ValueError for NaN
    and infinities, RecursionError for a cycle."""
    text = "".join(_encode_c(value, 0)) if _encode_c is not None else _compact(value)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it, but a JSON escape
        return escape_surrogates(text).encode()


SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def escape_surrogates(text: str) -> str:
    """JSON ``text`` with each lone surrogate written as its ``\\uXXXX`` escape: the same JSON,
    exact, and encodable in UTF-8 (lone surrogates can only be inside JSON strings)."""
    return SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (``text`` itself when it has none)."""
    if SURROGATE.search(text) is None:
        return text
    return SURROGATE.sub(REPLACEMENT, text)
