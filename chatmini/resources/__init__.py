"""openai-python's call shape, one module per API resource: ``client.chat.completions``
(``chat``), ``client.completions`` (legacy, ``completions``), ``client.embeddings``,
``client.models``, ``client.moderations``; ``base`` holds what every resource has."""

from .base import APIResource
from .chat import Chat
from .completions import Completions
from .embeddings import Embeddings
from .models import Models
from .moderations import Moderations

__all__ = ["APIResource", "Chat", "Completions", "Embeddings", "Models", "Moderations"]
