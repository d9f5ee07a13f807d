"""Structured outputs: a class, a JSON schema or a format as ``response_format`` /
``text_format``, sent as a strict ``json_schema`` and parsed back into the type (``formats``,
from type hints read once in ``typeinfo``, schemas built by ``schema`` and made strict by
``strict``, values checked by ``validate`` and built by ``convert``; pydantic models in
``pydantic_models``); tools from functions (``functions``); answers parsed (``parsing``);
streamed JSON read as it grows (``partial``)."""

from .formats import OutputFormat, output_format
from .functions import FunctionTool, function_tool
from .parsing import Parser
from .partial import PartialJSON

__all__ = ["FunctionTool", "OutputFormat", "Parser", "PartialJSON", "function_tool",
           "output_format"]
