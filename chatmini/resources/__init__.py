"""openai-python's call shape, one module per API resource: ``client.chat.completions``
(``chat``), ``client.models`` (``models``), ``client.responses`` (``responses``),
``client.files`` (``files``), ``client.batches`` (``batches``); ``pagination`` holds the cursor
pages and what the listing resources share."""

from .batches import Batch, Batches, BatchPage
from .chat import Chat, Completions
from .files import FileDeleted, FileObject, FilePage, Files
from .models import Models
from .pagination import CursorPage
from .responses import Responses

__all__ = [
    "Batch", "BatchPage", "Batches", "Chat", "Completions", "CursorPage", "FileDeleted",
    "FileObject", "FilePage", "Files", "Models", "Responses",
]
