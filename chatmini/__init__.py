"""chatmini: a small, fast, blocking client for OpenAI-compatible chat APIs."""

__version__ = "0.1.0"
