"""openai-python's call shape, one module per API resource: ``client.chat.completions``
(``chat``), ``client.completions`` (legacy, ``completions``), ``client.embeddings``,
``client.models``, ``client.moderations``, ``client.responses``, ``client.files``,
``client.batches``; ``base`` holds what every resource has, ``pagination`` the cursor pages
and what the listing resources share."""

from ..objects import Batch, FileDeleted, FileObject
from .base import APIResource
from .batches import Batches, BatchPage
from .chat import Chat
from .completions import Completions
from .embeddings import Embeddings
from .files import FilePage, Files
from .models import Models
from .moderations import Moderations
from .pagination import CursorPage
from .responses import Responses

__all__ = [
    "APIResource", "Batch", "BatchPage", "Batches", "Chat", "Completions", "CursorPage",
    "Embeddings", "FileDeleted", "FileObject", "FilePage", "Files", "Models", "Moderations",
    "Responses",
]
