"""The ``cache`` plugin: successful answers kept in memory or in a SQLite file and given back
for the same question, without the network and without rate-limit budget. See docs/cache.md."""

from .key import HEADER, deterministic
from .plugin import CACHE, CacheInfo, ResponseCache

__all__ = ["CACHE", "HEADER", "CacheInfo", "ResponseCache", "deterministic"]
