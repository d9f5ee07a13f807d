"""chatmini.codings: every content coding round-trips, streams decode piece by piece, and a
missing optional package or a bad level is a clear InvalidRequestError."""

from __future__ import annotations

import re
import sys
import zlib

import pytest

import chatmini
from chatmini import codings

DATA = b'{"messages":[{"role":"user","content":"' + b"compress me please " * 200 + b'"}]}'


@pytest.mark.parametrize("coding", codings.CODINGS)
def test_round_trip_and_smaller(coding):
    packed = codings.compress(coding, DATA)
    assert len(packed) < len(DATA) // 5
    assert codings.decompress(coding, packed) == DATA


@pytest.mark.parametrize("coding", codings.CODINGS)
def test_every_level_in_range_round_trips(coding):
    low, high, _ = codings.LEVELS[coding]
    for level in (low, high):
        assert codings.decompress(coding, codings.compress(coding, DATA, level)) == DATA


def test_zstd_frames_from_one_thread_are_independent():
    first = codings.compress("zstd", DATA)
    second = codings.compress("zstd", b"other")  # the thread's reused compressor
    assert codings.decompress("zstd", first) == DATA
    assert codings.decompress("zstd", second) == b"other"


@pytest.mark.parametrize("coding", codings.CODINGS)
def test_flushing_compressor_output_decodes_piece_by_piece(coding):
    packer = codings.FlushingCompressor(coding)
    pieces = [b"data: one\n\n", b"data: two\n\n", b"data: [DONE]\n\n"]
    wire = [packer.feed(piece) for piece in pieces]
    unpacker = _incremental_decoder(coding)
    for piece, block in zip(pieces, wire):
        assert unpacker(block) == piece  # each event is readable the moment its bytes arrive
    assert codings.decompress(coding, b"".join(wire) + packer.finish()) == b"".join(pieces)


def _incremental_decoder(coding):
    if coding in ("gzip", "deflate"):
        return zlib.decompressobj(31 if coding == "gzip" else 15).decompress
    if coding == "br":
        return codings.module_for("br").Decompressor().process
    return codings.module_for("zstd").ZstdDecompressor().decompress


@pytest.mark.parametrize("coding", codings.CODINGS)
def test_corrupt_input_is_a_value_error(coding):
    with pytest.raises(ValueError, match=f"not valid {coding}"):
        codings.decompress(coding, b"\x00\x01 certainly not compressed \xff")


@pytest.mark.parametrize(("coding", "module", "extra"), [
    ("zstd", "backports.zstd", "chatmini[zstd]"),
    ("br", "brotli", "chatmini[brotli]"),
])
def test_missing_package_names_the_extra(monkeypatch, coding, module, extra):
    if sys.version_info >= (3, 14) and coding == "zstd":
        module = "compression.zstd"
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    monkeypatch.setitem(sys.modules, "brotlicffi", None)
    assert codings.available(coding) is False
    with pytest.raises(chatmini.InvalidRequestError, match=re.escape(f"pip install '{extra}'")):
        codings.compress(coding, DATA)


def test_unknown_coding_and_bad_levels_are_clear_errors():
    with pytest.raises(chatmini.InvalidRequestError, match="Unknown content coding 'lzma'"):
        codings.compress("lzma", DATA)
    for level in (0, 10, 1.5, True, "6"):
        with pytest.raises(chatmini.InvalidRequestError, match="gzip level must be"):
            codings.compress("gzip", DATA, level)
    with pytest.raises(chatmini.InvalidRequestError, match="br level must be .* 0 to 11"):
        codings.FlushingCompressor("br", 12)
