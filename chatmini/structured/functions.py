"""``chatmini.function_tool(fn)``: a function tool built from a Python function's signature
and docstring (or from a class: a pydantic model, a dataclass, a TypedDict), strict by
default, whose arguments are parsed into the declared types.

The tool is a dict in Chat Completions' shape (``{"type": "function", "function": {...}}``),
so it goes into ``tools=`` of any call as it is; the Responses API's flat shape is
``responses_param()`` (``client.responses`` converts it). It also keeps the function, so a
tool loop (``run_tools``) can call it.
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import Any, Callable, Optional

from ..errors import InvalidRequestError
from .formats import OutputFormat, class_format, typed_format
from .typeinfo import Node, Object, Reader, class_doc

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Params)\s*:\s*$")
_ENTRY = re.compile(r"^(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


class FunctionTool(dict):  # type: ignore[type-arg]
    """A function tool: Chat Completions' tool dict, plus ``function`` (what the model calls),
    ``name``, ``format`` (the arguments' schema and parser) and ``takes_instance`` (a class
    tool: the function, if any, takes one instance rather than keyword arguments)."""

    def __init__(self, name: str, description: Optional[str], parameters: OutputFormat,
                 function: Optional[Callable[..., Any]], takes_instance: bool) -> None:
        spec: dict[str, Any] = {"name": name}
        if description:
            spec["description"] = description
        spec["parameters"] = parameters.schema
        spec["strict"] = bool(parameters.strict)
        super().__init__(type="function", function=spec)
        self.name = name
        self.function = function
        self.format = parameters
        self.takes_instance = takes_instance

    def parse_arguments(self, arguments: Any, completion: Any = None) -> Any:
        """The arguments' JSON text as the declared types: a dict of keyword arguments for a
        function, an instance for a class. OutputValidationError names what does not fit."""
        return self.format.parse(arguments, completion)

    def call(self, parsed: Any) -> Any:
        """Run the function with parsed arguments."""
        if self.function is None:
            raise InvalidRequestError(f"tool {self.name!r} was built from a class and has no "
                                      "function to run: function_tool(cls, function=...)")
        if self.takes_instance:
            return self.function(parsed)
        return self.function(**parsed)

    def responses_param(self) -> dict[str, Any]:
        """The same tool in the Responses API's flat shape."""
        return {"type": "function", **self["function"]}

    def __repr__(self) -> str:
        return f"<FunctionTool {self.name} strict={self.format.strict}>"


def function_tool(
    obj: Any, *, name: Optional[str] = None, description: Optional[str] = None,
    strict: bool = True, function: Optional[Callable[..., Any]] = None,
) -> FunctionTool:
    """A function tool from a function (its parameters, their type hints and the docstring's
    summary and ``Args:``/``:param:`` lines) or from a class (its fields; ``function=`` may
    take an instance). ``strict=False`` leaves parameters with defaults optional for servers
    without strict mode (the function's defaults then fill in)."""
    if isinstance(obj, type):
        tool_name = _checked_name(name or obj.__name__)
        fmt = class_format(obj, f"tool {tool_name}")
        doc = description if description is not None else class_doc(obj)  # not inherited
        return FunctionTool(tool_name, doc, fmt, function, takes_instance=True)
    if not callable(obj):
        raise InvalidRequestError(f"function_tool needs a function or a class, not "
                                  f"{type(obj).__name__}")
    if function is not None:
        raise InvalidRequestError("function= is for class tools: a function tool runs itself")
    tool_name = _checked_name(name or str(getattr(obj, "__name__", "")))
    doc = inspect.getdoc(obj)
    node, optional = _parameters(obj, tool_name, _param_docs(doc))
    fmt = typed_format(node, tool_name, f"tool {tool_name}",
                       optional=() if strict else optional)
    return FunctionTool(tool_name, description if description is not None else _summary(doc),
                        fmt, obj, takes_instance=False)


def _parameters(fn: Callable[..., Any], name: str,
                docs: dict[str, str]) -> tuple[Object, list[str]]:
    """The function's parameters as an object node, and the names that have defaults."""
    what = f"tool {name}"
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise InvalidRequestError(f"{what}: cannot read the function's signature ({exc})") from None
    reader = Reader(what)
    fields: dict[str, Node] = {}
    optional = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise InvalidRequestError(f"{what}: parameter {param.name!r} must be passable by "
                                      "keyword (no *args, **kwargs or positional-only)")
        if param.name not in hints:
            raise InvalidRequestError(f"{what}: parameter {param.name!r} needs a type hint (the "
                                      "model is told each argument's type)")
        hint = hints[param.name]
        if param.name in docs:  # an Annotated description of its own comes first
            hint = typing.Annotated[hint, docs[param.name]]
        fields[param.name] = reader.node(hint, param.name)
        if param.default is not param.empty:
            optional.append(param.name)
    return Object(None, reader, fields), optional


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidRequestError(f"tool name {name!r} must be 1-64 letters, digits, _ or - "
                                  "(pass name=)")
    return name


def _summary(doc: Optional[str]) -> Optional[str]:
    """A docstring's first paragraph, on one line."""
    if not doc:
        return None
    paragraph = doc.strip().split("\n\n", 1)[0]
    lines = []
    for line in paragraph.splitlines():
        if _SECTION.match(line) or _SPHINX.match(line):
            break
        lines.append(line.strip())
    return " ".join(lines) or None


def _param_docs(doc: Optional[str]) -> dict[str, str]:
    """Parameter descriptions from ``:param name:`` lines (Sphinx) or an ``Args:`` section
    (Google style: ``name (type): text``, continued on more indented lines)."""
    found: dict[str, str] = {}
    lines = (doc or "").splitlines()
    for line in lines:
        sphinx = _SPHINX.match(line)
        if sphinx:
            found[sphinx.group(1)] = sphinx.group(2)
    header = next((i for i, line in enumerate(lines) if _SECTION.match(line)), None)
    if header is not None:
        base, entry_indent, current = _indent(lines[header]), None, None
        for line in lines[header + 1:]:
            if not line.strip():
                continue
            indent = _indent(line)
            if indent <= base:
                break
            entry = _ENTRY.match(line.strip())
            if entry and (entry_indent is None or indent <= entry_indent):
                entry_indent, current = indent, entry.group(1)
                found[current] = entry.group(2)
            elif current is not None:
                found[current] += " " + line.strip()
    return {name: " ".join(text.split()) for name, text in found.items() if text.strip()}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
