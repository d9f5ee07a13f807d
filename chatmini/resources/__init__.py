"""openai-python's call shape, one module per API resource: ``client.chat.completions``
(``chat``), ``client.models`` (``models``), ``client.responses`` (``responses``); ``pages``
holds the cursor-paginated list they return."""

from .chat import Chat, Completions
from .models import Models
from .pages import CursorPage
from .responses import Responses

__all__ = ["Chat", "Completions", "CursorPage", "Models", "Responses"]
