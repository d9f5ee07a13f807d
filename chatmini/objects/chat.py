"""Chat Completions objects, answers and streamed chunks, with openai-python's field names.

``reasoning_content`` and ``reasoning`` are known too on messages and deltas: llama.cpp and
DeepSeek send the first, vLLM, Ollama and OpenRouter the second (docs/streaming.md). Either
attribute reads the reasoning whichever name the server used, so code written for one server
reads another's; ``to_dict()`` keeps the server's name.
"""

from __future__ import annotations

from typing import Any

from .base import APIObject, APIResponseObject, known


class TopLogprob(APIObject):
    __slots__ = ()
    _fields = known("token bytes logprob")


class TokenLogprob(APIObject):
    """One token's log probability, with its most likely alternatives."""

    __slots__ = ()
    _fields = known("token bytes logprob top_logprobs")
    _nested = {"top_logprobs": TopLogprob}


class ChoiceLogprobs(APIObject):
    __slots__ = ()
    _fields = known("content refusal")
    _nested = {"content": TokenLogprob, "refusal": TokenLogprob}


class Function(APIObject):
    """A function call's ``name`` and ``arguments`` (a JSON string)."""

    __slots__ = ()
    _fields = known("name arguments parsed_arguments")


class ToolCall(APIObject):
    """One tool call of a message."""

    __slots__ = ()
    _fields = known("id type function custom")
    _nested = {"function": Function}


def _either(data: dict[str, Any], name: str, other: str) -> Any:
    value = data.get(name)
    return data.get(other) if value is None else value


class _Reasoning(APIObject):
    """``reasoning_content`` and ``reasoning``: each reads the other when the server sent only
    the other."""

    __slots__ = ()

    @property
    def reasoning_content(self) -> Any:
        return _either(self._data, "reasoning_content", "reasoning")

    @property
    def reasoning(self) -> Any:
        return _either(self._data, "reasoning", "reasoning_content")


class ChatCompletionMessage(_Reasoning):
    """The assistant's message; pass it back in ``messages`` as it is."""

    __slots__ = ()
    _fields = known(
        "role content refusal tool_calls function_call audio annotations "
        "reasoning_content reasoning parsed"
    )
    _nested = {"tool_calls": ToolCall, "function_call": Function}


class Choice(APIObject):
    __slots__ = ()
    _fields = known("index message finish_reason logprobs")
    _nested = {"message": ChatCompletionMessage, "logprobs": ChoiceLogprobs}


class PromptTokensDetails(APIObject):
    __slots__ = ()
    _fields = known("audio_tokens cache_write_tokens cached_tokens image_tokens text_tokens")


class CompletionTokensDetails(APIObject):
    __slots__ = ()
    _fields = known(
        "accepted_prediction_tokens audio_tokens reasoning_tokens rejected_prediction_tokens "
        "text_tokens"
    )


class CompletionUsage(APIObject):
    """Token counts of a chat or legacy completion."""

    __slots__ = ()
    _fields = known(
        "prompt_tokens completion_tokens total_tokens prompt_tokens_details "
        "completion_tokens_details"
    )
    _nested = {
        "prompt_tokens_details": PromptTokensDetails,
        "completion_tokens_details": CompletionTokensDetails,
    }


class ChatCompletion(APIResponseObject):
    """A ``chat.completion`` object."""

    __slots__ = ()
    _fields = known(
        "id object created model choices usage system_fingerprint service_tier metadata "
        "moderation"
    )
    _nested = {"choices": Choice, "usage": CompletionUsage}


class ChoiceDeltaToolCall(APIObject):
    """A fragment of a streamed tool call; ``index`` says which call it extends."""

    __slots__ = ()
    _fields = known("index id type function")
    _nested = {"function": Function}


class ChoiceDelta(_Reasoning):
    """What one chunk adds to a choice's message."""

    __slots__ = ()
    _fields = known(
        "role content refusal tool_calls function_call audio reasoning_content reasoning"
    )
    _nested = {"tool_calls": ChoiceDeltaToolCall, "function_call": Function}


class ChunkChoice(APIObject):
    __slots__ = ()
    _fields = known("index delta finish_reason logprobs")
    _nested = {"delta": ChoiceDelta, "logprobs": ChoiceLogprobs}


class ChatCompletionChunk(APIObject):
    """One streamed ``chat.completion.chunk``."""

    __slots__ = ()
    _fields = known(
        "id object created model choices usage system_fingerprint service_tier obfuscation "
        "moderation"
    )
    _nested = {"choices": ChunkChoice, "usage": CompletionUsage}
