"""openai-python's call shape, one module per API resource: ``client.chat.completions``
(``chat``), ``client.models`` (``models``)."""

from .chat import Chat, Completions
from .models import Models

__all__ = ["Chat", "Completions", "Models"]
