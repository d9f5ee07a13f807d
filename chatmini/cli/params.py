"""Request body parameters from the command line: ``--max-tokens``, ``--temperature`` and
``-o key=value`` for anything else (the value read as JSON when it parses), checked against
each other and against what the command builds itself (model, messages, stream)."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, Mapping

from .batch import positive_int
from .report import UsageError


def finite_float(text: str) -> float:
    """argparse type: a finite number (NaN and infinities are not JSON)."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _not_json(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: Python's json accepts them, JSON does not


def json_value(text: str) -> Any:
    """``text`` read as JSON (``5``, ``true``, ``["a"]``, ``{"k": 1}``), else the string."""
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except (ValueError, RecursionError):
        return text


def body_option(text: str) -> tuple[str, Any]:
    """argparse type of ``-o``: ``key=value``."""
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, not {text!r}")
    return key, json_value(value)


def add_body_options(parser: argparse.ArgumentParser) -> None:
    """The options that become request body parameters."""
    parser.add_argument("--max-tokens", type=positive_int, metavar="N",
                        help="the most tokens a reply may have")
    parser.add_argument("--temperature", type=finite_float, metavar="T",
                        help="sampling temperature (0 is the most deterministic)")
    parser.add_argument("-o", "--option", dest="options", action="append", default=[],
                        type=body_option, metavar="KEY=VALUE",
                        help="any body parameter, repeatable: -o top_p=0.9 -o stop='[\"\\n\"]' "
                        "(the value is read as JSON when it parses, else as a string)")


def body_params(args: argparse.Namespace, max_tokens_key: str,
                reserved: Mapping[str, str]) -> dict[str, Any]:
    """The body parameters the options ask for. ``max_tokens_key`` is the API's name for
    ``--max-tokens``; ``reserved`` maps keys the command sets itself to the option to use."""
    params: dict[str, Any] = {}
    given: dict[str, str] = {}
    for key, value in args.options:
        if key in reserved:
            raise UsageError(f"-o {key}: {reserved[key]}")
        if key in given:
            raise UsageError(f"-o {key} is given twice")
        params[key], given[key] = value, f"-o {key}"
    for option, key, value in (("--max-tokens", max_tokens_key, args.max_tokens),
                               ("--temperature", "temperature", args.temperature)):
        if value is not None:
            if key in given:
                raise UsageError(f"{option} and {given[key]} both set {key}: give one of them")
            params[key] = value
    return params
