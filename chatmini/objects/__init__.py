"""Response objects: lazy attribute access over the parsed JSON (``base``), one module of
types per API with openai-python's field names (``chat``, ``completions``, ``embeddings``,
``models``, ``moderations``, ``responses``, ``files``)."""

from .base import APIObject, APIResponseObject, known, wrap
from .chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    ChoiceDelta,
    ChunkChoice,
    CompletionUsage,
    ToolCall,
)
from .completions import Completion, CompletionChoice
from .embeddings import CreateEmbeddingResponse, Embedding
from .files import Batch, BatchRequestCounts, FileDeleted, FileObject
from .models import Model, ModelList
from .moderations import Moderation, ModerationCreateResponse
from .responses import (
    Response,
    ResponseDeltaEvent,
    ResponseOutputItem,
    ResponseStreamEvent,
    ResponseUsage,
    output_text,
)

__all__ = [
    "APIObject", "APIResponseObject", "Batch", "BatchRequestCounts", "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage", "Choice", "ChoiceDelta", "ChunkChoice", "Completion",
    "CompletionChoice", "CompletionUsage", "CreateEmbeddingResponse", "Embedding",
    "FileDeleted", "FileObject", "Model",
    "ModelList", "Moderation", "ModerationCreateResponse", "Response", "ResponseOutputItem",
    "ResponseDeltaEvent", "ResponseStreamEvent", "ResponseUsage", "ToolCall", "known",
    "output_text", "wrap",
]
