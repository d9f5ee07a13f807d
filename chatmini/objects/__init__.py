"""Response objects: lazy attribute access over the parsed JSON (``base``), one module of
types per API with openai-python's field names (``chat``, ``completions``, ``embeddings``,
``models``, ``moderations``)."""

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
from .models import Model, ModelList
from .moderations import Moderation, ModerationCreateResponse

__all__ = [
    "APIObject", "APIResponseObject", "ChatCompletion", "ChatCompletionChunk",
    "ChatCompletionMessage", "Choice", "ChoiceDelta", "ChunkChoice", "Completion",
    "CompletionChoice", "CompletionUsage", "CreateEmbeddingResponse", "Embedding", "Model",
    "ModelList", "Moderation", "ModerationCreateResponse", "ToolCall", "known", "wrap",
]
