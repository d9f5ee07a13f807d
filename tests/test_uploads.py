"""Multipart bodies: what ``MultipartBody`` encodes, the test server's streaming parser reads back
exactly, for any content, names and block boundaries (property-based), and the body's length
is the bytes it sends."""

from __future__ import annotations

import io

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.testing.filestore import BadUpload, PartReader
from chatmini.uploads import FileSource, MultipartBody

BOUNDARY = "chatmini-0123456789abcdef"
names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\\\0"),
                min_size=1, max_size=30)


def parse(body: bytes, cuts: list[int]):
    """The server's reading of ``body`` delivered in blocks cut at ``cuts``."""
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    blocks = iter([body[a:b] for a, b in zip(points, points[1:]) if b > a])
    reader = PartReader(blocks, BOUNDARY.encode())
    fields, files = {}, []
    for _headers, name, filename in reader.parts():
        if filename is None:
            fields[name] = reader.small_part().decode()
        else:
            out = io.BytesIO()
            reader.copy_part(out.write, 1 << 30)
            files.append((filename, out.getvalue()))
    return fields, files


def escaped(text: str) -> str:
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


@settings(max_examples=300, deadline=None)
@given(content=st.binary(max_size=3000) | st.sampled_from([
           b"", b"\r\n", b"--" + BOUNDARY.encode(), b"\r\n--" + BOUNDARY.encode()[:-1],
           b"\r\n--" + BOUNDARY.encode(),  # the delimiter itself: a random boundary avoids it
           b"x\r\n--" + BOUNDARY.encode() + b"-", b"\r\n--chatmini-"]),
       filename=names, purpose=st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                       min_size=1, max_size=20),
       cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
def test_what_is_encoded_is_read_back_exactly(content, filename, purpose, cuts):
    assume(b"\r\n--" + BOUNDARY.encode() not in b"\r\n" + content)
    body = MultipartBody({"purpose": purpose}, FileSource((filename, content)),
                         boundary=BOUNDARY)
    sent = b"".join(body.chunks())
    assert len(sent) == body.length
    fields, files = parse(sent, cuts)
    assert fields == {"purpose": purpose}
    assert files == [(escaped(filename), content)]


def test_a_body_cut_short_is_malformed():
    body = b"".join(MultipartBody({"purpose": "batch"}, FileSource(b"abc" * 100),
                                  boundary=BOUNDARY).chunks())
    with pytest.raises(BadUpload, match="Malformed"):
        parse(body[:-20], [])


def test_an_unrewound_pipe_is_refused_before_any_byte(tmp_path):
    import os

    read_end, write_end = os.pipe()
    os.write(write_end, b"abc")
    os.close(write_end)
    with open(read_end, "rb", buffering=0) as pipe:
        body = MultipartBody({}, FileSource(pipe))
        assert body.length is None and not body.rewindable
        assert b"abc" in b"".join(body.chunks())
        with pytest.raises(chatmini.APIConnectionError, match="cannot be read twice"):
            body.chunks()


def test_a_file_that_shrinks_between_attempts_is_an_error(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"x" * 1000)
    body = MultipartBody({}, FileSource(path))
    path.write_bytes(b"x" * 10)
    with pytest.raises(chatmini.InvalidRequestError, match="shrank"):
        b"".join(body.chunks())


def test_describe_and_repr_show_no_content():
    body = MultipartBody({"purpose": "batch"}, FileSource(("a.jsonl", b"SECRET DATA")))
    assert "SECRET" not in repr(body) + body.describe()
    assert "file 'a.jsonl', multipart/form-data" in repr(body)


def test_the_server_reads_a_content_type_without_boundary_as_a_bad_upload():
    from chatmini.testing.filestore import multipart_boundary

    with pytest.raises(BadUpload, match="boundary"):
        multipart_boundary("multipart/form-data")
    assert multipart_boundary(f"multipart/form-data; boundary={BOUNDARY}") == BOUNDARY.encode()
