"""A real local OpenAI-compatible HTTP server for testing code that talks to chat APIs.

Start one with ``with Server() as server:``, point a client at ``server.base_url``, script
answers with ``server.enqueue(Reply(...))`` and inspect ``server.requests`` afterwards.
``server.tokens`` is an OAuth2 token endpoint at ``server.token_url`` (see docs/auth.md);
``server.responses`` holds what its Responses API (``/v1/responses``) created.
``server.files`` and ``server.batches`` serve the Files and Batch APIs (docs/batch-api.md).
``FaultProxy`` breaks answers on the wire (resets, truncation, stalls, drips; docs/faults.md).
"""

from .proxy import Fault, FaultProxy
from .replies import Reply
from .server import RecordedRequest, Server
from .tokens import TokenIssuer, TokenRequest

__all__ = [
    "Fault", "FaultProxy", "RecordedRequest", "Reply", "Server", "TokenIssuer", "TokenRequest",
]
