"""Streamed replies: one stream core (``core``) and one small decoder per API (``chat``)."""

from .chat import Stream
from .core import EventStream

__all__ = ["EventStream", "Stream"]
