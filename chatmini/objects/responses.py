"""Responses API objects (``client.responses``), with openai-python's field names.

Output items are a union of many types (message, function_call, reasoning, web search...):
one item type knows the fields they share, and a field of another kind reads as an
AttributeError, as on openai-python's union members.
"""

from __future__ import annotations

from typing import Any, Optional

from .base import APIObject, APIResponseObject, known


class OutputContent(APIObject):
    """A content part of an output message (``output_text``, ``refusal``) or a reasoning
    summary part."""

    __slots__ = ()
    _fields = known("type text annotations logprobs refusal parsed")


class ResponseOutputItem(APIObject):
    """One output item: ``message``, ``function_call``, ``reasoning``, ... (see ``.type``)."""

    __slots__ = ()
    _fields = known(
        "id type role status content phase call_id name arguments summary encrypted_content "
        "output action queries results parsed_arguments namespace caller async_"
    )
    _nested = {"content": OutputContent, "summary": OutputContent}


class InputTokensDetails(APIObject):
    __slots__ = ()
    _fields = known("cached_tokens cache_write_tokens cache_write_tokens_details")


class OutputTokensDetails(APIObject):
    __slots__ = ()
    _fields = known("reasoning_tokens")


class ResponseUsage(APIObject):
    """Token counts of a response."""

    __slots__ = ()
    _fields = known(
        "input_tokens input_tokens_details output_tokens output_tokens_details total_tokens"
    )
    _nested = {"input_tokens_details": InputTokensDetails,
               "output_tokens_details": OutputTokensDetails}


class Response(APIResponseObject):
    """A Responses API ``response`` object (``client.responses.create``)."""

    __slots__ = ()
    _fields = known(
        "id created_at error incomplete_details instructions metadata model object "
        "parallel_tool_calls temperature tool_choice tools top_p background completed_at "
        "conversation max_output_tokens max_tool_calls moderation previous_response_id prompt "
        "prompt_cache_key prompt_cache_options prompt_cache_retention reasoning "
        "safety_identifier service_tier status text top_logprobs truncation usage user "
        "output_parsed access_programs image input_transformations prompt_cache_diagnostics "
        "tool_usage"
    )
    _nested = {"usage": ResponseUsage}

    @property
    def output(self) -> list[Any]:
        """The output items (message, function_call, reasoning, ...); [] when the server
        sent ``output: null`` (or anything but a list)."""
        output = self._data.get("output")
        if type(output) is not list:
            return []
        return [ResponseOutputItem(item) if type(item) is dict else item for item in output]

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of the message items, joined (openai-python's
        convenience); "" when there is none."""
        return output_text(self._data.get("output"))


class ResponseStreamEvent(APIObject):
    """One event of a Responses stream: ``.type``, ``.sequence_number`` and the event's fields;
    ``.response`` (on ``response.created``, ``response.completed``, ...) is a Response."""

    __slots__ = ()
    _fields = known(
        "type sequence_number delta item_id output_index content_index summary_index text item "
        "part error code message param arguments name obfuscation logprobs annotation "
        "annotation_index parsed refusal status output reason input previous_response_id "
        "background command command_index output_format partial_image_b64 partial_image_index "
        "quality required_input size steer stream_id"
    )
    _nested = {"item": ResponseOutputItem, "part": OutputContent}

    @property
    def response(self) -> Optional[Response]:
        data = self._data.get("response")
        return Response(data) if type(data) is dict else None


class ResponseDeltaEvent(ResponseStreamEvent):
    """A text or function-arguments delta handed out by ``responses.stream()``, as
    openai-python's helper hands them out: ``snapshot`` is its part's text so far (joined when
    read, so a caller who never reads it pays nothing)."""

    __slots__ = ("_pieces", "_count")

    def __init__(self, data: dict[str, Any], pieces: list[str], count: int) -> None:
        super().__init__(data)
        object.__setattr__(self, "_pieces", pieces)
        object.__setattr__(self, "_count", count)

    @property
    def snapshot(self) -> str:
        return "".join(self._pieces[:self._count])

    def __reduce__(self) -> tuple[Any, ...]:
        return (ResponseStreamEvent, ({**self._data, "snapshot": self.snapshot},))

    def model_dump(self, **options: Any) -> dict[str, Any]:
        return {**super().model_dump(**options), "snapshot": self.snapshot}


def output_text(output: Any) -> str:
    """The ``output_text`` parts of the message items of a Responses ``output`` list, joined;
    anything malformed is skipped."""
    if type(output) is not list:
        return ""
    texts = []
    for item in output:
        content = item.get("content") if type(item) is dict else None
        if type(content) is list and item.get("type") == "message":
            for part in content:
                if type(part) is dict and part.get("type") == "output_text":
                    text = part.get("text")
                    if type(text) is str:
                        texts.append(text)
    return "".join(texts)
