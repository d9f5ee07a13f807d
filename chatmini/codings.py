"""HTTP content codings (gzip, deflate, br, zstd): compress and decompress bodies, and compress
event streams with a flush after every event.

Used by the compression plugin, the embedded test server and benchmarks/wire_formats.py. zlib
is the standard library; brotli (``chatmini[brotli]``) and zstd (``chatmini[zstd]``: the
standard library's ``compression.zstd`` from Python 3.14, ``backports.zstd`` before) are
imported on first use, never at ``import chatmini``.
"""

from __future__ import annotations

import sys
import threading
import zlib
from typing import Any, Callable, Optional

from .errors import InvalidRequestError

CODINGS = ("gzip", "deflate", "br", "zstd")
EXTRAS = {"br": "chatmini[brotli]", "zstd": "chatmini[zstd]"}
LEVELS = {"gzip": (1, 9, 1), "deflate": (1, 9, 1), "br": (0, 11, 3), "zstd": (-7, 22, 3)}
_WBITS = {"gzip": 31, "deflate": 15}  # zlib's window bits: 31 = gzip header, 15 = zlib header


def _brotli() -> Any:
    try:
        import brotli
    except ImportError:
        import brotlicffi as brotli  # the other binding urllib3 decodes with
    return brotli


def _zstd() -> Any:
    if sys.version_info >= (3, 14):
        import compression.zstd as zstd
    else:
        import backports.zstd as zstd
    return zstd


_MODULES: dict[str, Callable[[], Any]] = {"br": _brotli, "zstd": _zstd}


def module_for(coding: str) -> Any:
    """The module behind ``coding`` (zlib, brotli or zstd); a clear error when it is missing."""
    if coding in _WBITS:
        return zlib
    if coding not in _MODULES:
        raise InvalidRequestError(
            f"Unknown content coding {coding!r}; expected one of {', '.join(CODINGS)}"
        )
    try:
        return _MODULES[coding]()
    except ImportError:
        raise InvalidRequestError(
            f"Content coding {coding!r} needs an optional package: pip install '{EXTRAS[coding]}'"
        ) from None


def available(coding: str) -> bool:
    """Whether ``coding`` can be used here (its optional package, if any, is installed)."""
    try:
        module_for(coding)
    except InvalidRequestError:
        return False
    return True


def check_level(coding: str, level: Optional[int]) -> int:
    """The level to use: ``level``, or the coding's default; a clear error when out of range."""
    low, high, default = LEVELS[coding]
    if level is None:
        return default
    if isinstance(level, bool) or not isinstance(level, int) or not low <= level <= high:
        raise InvalidRequestError(
            f"{coding} level must be an integer from {low} to {high}, not {level!r}"
        )
    return level


def compress(coding: str, data: bytes, level: Optional[int] = None) -> bytes:
    """``data`` compressed with ``coding`` at ``level`` (the coding's default when None)."""
    module = module_for(coding)
    level = check_level(coding, level)
    if coding == "br":
        packed: bytes = module.compress(data, quality=level)
        return packed
    if coding == "zstd":
        return _zstd_frame(module, data, level)
    packer = zlib.compressobj(level, zlib.DEFLATED, _WBITS[coding])
    return packer.compress(data) + packer.flush()


_local = threading.local()


def _zstd_frame(module: Any, data: bytes, level: int) -> bytes:
    """One zstd frame (its size in the header), from this thread's compressor for ``level``:
    a new compression context costs more than compressing a 2 KB body."""
    packers = _local.__dict__.setdefault("zstd", {})
    packer = packers.get(level)
    if packer is None:
        packer = packers[level] = module.ZstdCompressor(level=level)
    packer.set_pledged_input_size(len(data))
    frame: bytes = packer.compress(data, mode=module.ZstdCompressor.FLUSH_FRAME)
    return frame


def decompress(coding: str, data: bytes) -> bytes:
    """``data`` decoded from ``coding``; raises ValueError when it is not valid ``coding``."""
    module = module_for(coding)
    try:
        if coding in _MODULES:
            plain: bytes = module.decompress(data)
            return plain
        return zlib.decompress(data, _WBITS[coding])
    except Exception as exc:  # zlib.error, brotli.error, ZstdError: one meaning, bad input
        raise ValueError(f"not valid {coding} data: {exc}") from None


class FlushingCompressor:
    """Compresses a stream piece by piece, each piece flushed so the reader can decode it at once.

    ``feed(piece)`` returns the bytes that decode to everything fed so far; ``finish()`` the
    trailer. This is how a server keeps a compressed event stream live (zlib's Z_SYNC_FLUSH,
    zstd's block flush, brotli's flush).
    """

    _feed: Callable[[bytes], bytes]
    _finish: Callable[[], bytes]

    def __init__(self, coding: str, level: Optional[int] = None) -> None:
        module = module_for(coding)
        level = check_level(coding, level)
        if coding == "br":
            packer = module.Compressor(quality=level)
            self._feed = lambda piece: packer.process(piece) + packer.flush()
            self._finish = packer.finish
        elif coding == "zstd":
            packer = module.ZstdCompressor(level=level)
            block = module.ZstdCompressor.FLUSH_BLOCK
            self._feed = lambda piece: packer.compress(piece, mode=block)
            self._finish = packer.flush
        else:
            packer = zlib.compressobj(level, zlib.DEFLATED, _WBITS[coding])
            self._feed = lambda piece: packer.compress(piece) + packer.flush(zlib.Z_SYNC_FLUSH)
            self._finish = packer.flush

    def feed(self, piece: bytes) -> bytes:
        """The compressed, flushed bytes for ``piece``."""
        return self._feed(piece)

    def finish(self) -> bytes:
        """The end of the compressed stream."""
        return self._finish()
