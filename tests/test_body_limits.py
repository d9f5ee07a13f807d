"""Large answers: a 60 MB body is read whole with bounded memory; ``max_response_bytes`` refuses
larger ones (counted after decompression, so a gzip bomb is stopped) without retrying them."""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY

MB = 1024 * 1024


def test_a_60_mb_body_is_read_whole_with_bounded_memory(make_client, server):
    size = 60 * MB
    server.enqueue(Reply(body=b'{"object":"blob","data":"' + b"x" * size + b'"}',
                         content_type="application/json"))
    client = make_client(timeout=(5, 30))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = time.monotonic()
        blob = client.post("/files/blob", json={})
        elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(blob.data) == size
    assert elapsed < 30
    # the bytes, their join, then the decoded text and the parsed string: about 3x the body
    assert peak < 3.5 * size, f"peak {peak / MB:.0f} MB for a {size / MB:.0f} MB body"
    assert client.chat.completions.create(model="m", messages=HI).choices


def test_a_declared_length_over_the_limit_fails_before_reading(make_client, server):
    client = make_client(max_response_bytes=MB, max_retries=2)
    server.enqueue(Reply(body=b"[" + b"1," * MB + b"1]", content_type="application/json"))
    with pytest.raises(chatmini.APIResponseValidationError) as info:
        client.chat.completions.create(model="m", messages=HI)
    message = str(info.value)
    assert "max_response_bytes=1,048,576" in message and "Content-Length" in message
    assert info.value.status_code == 200 and SECRET_KEY not in message
    assert len(server.requests) == 1  # a body too large is not fetched again
    assert client.chat.completions.create(model="m", messages=HI).choices


def test_a_gzip_bomb_is_stopped_by_its_decoded_size(make_client, server):
    client = make_client(max_response_bytes=MB)
    server.enqueue(Reply(raw_stream=b"0" * (40 * MB), gzip=True))  # ~40 KB on the wire
    start = time.monotonic()
    with pytest.raises(chatmini.APIResponseValidationError, match="more than 1,048,576 bytes"):
        client.post("/bomb", json={})
    assert time.monotonic() - start < 10
    assert client.chat.completions.create(model="m", messages=HI).choices


@pytest.mark.framings
def test_an_endless_stream_event_is_stopped_by_the_limit(make_client, server):
    client = make_client(max_response_bytes=MB)
    server.enqueue(Reply(raw_stream=b"data: " + b"x" * (8 * MB)))  # no line end, ever
    with pytest.raises(chatmini.APIResponseValidationError, match="Stream event .* larger"):
        list(client.chat.completions.create(model="m", messages=HI, stream=True))
    assert client.chat.completions.create(model="m", messages=HI).choices


@pytest.mark.framings
def test_long_streams_are_not_limited_as_a_whole(make_client, server):
    client = make_client(max_response_bytes=64 * 1024)
    server.enqueue(Reply(chunks=20_000))  # ~2.6 MB of events, each one small
    with client.chat.completions.create(model="m", messages=HI, stream=True) as stream:
        assert stream.get_final_completion().choices[0].message.content == "tok " * 20_000


def test_no_limit_when_none(make_client, server):
    client = make_client(max_response_bytes=None)
    server.enqueue(Reply(body=json.dumps({"data": "y" * (2 * MB)}), content_type="application/json"))
    assert len(client.post("/big", json={}).data) == 2 * MB


@pytest.mark.parametrize("value", [0, -1, 1.5, "10", True])
def test_bad_limits_are_refused(value):
    with pytest.raises(chatmini.InvalidRequestError, match="max_response_bytes"):
        chatmini.Client(api_key="k", max_response_bytes=value)
