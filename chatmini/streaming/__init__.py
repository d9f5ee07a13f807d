"""Streamed replies: one stream core (``core``) and one small decoder per API (``chat``,
``responses``)."""

from .chat import Stream
from .core import EventStream
from .responses import ResponseStream

__all__ = ["EventStream", "ResponseStream", "Stream"]
