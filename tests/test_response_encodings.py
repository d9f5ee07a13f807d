"""Compressed answers over real sockets: Accept-Encoding names exactly what this install can
decode, every such coding decodes (bodies and streams), and compressed streams stay live."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from urllib3.response import HTTPResponse
from urllib3.util.request import ACCEPT_ENCODING

import chatmini
from chatmini.testing import Reply

from .conftest import HI

ADVERTISED = ACCEPT_ENCODING.split(",")


def create(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, **kw)


def test_accept_encoding_names_what_urllib3_decodes(client, server):
    create(client)
    sent = server.requests[-1].headers["Accept-Encoding"].split(",")
    assert sent == ADVERTISED
    assert set(sent) == set(HTTPResponse.CONTENT_DECODERS) - {"x-gzip"}  # an alias of gzip
    assert {"gzip", "deflate", "br", "zstd"} <= set(sent)  # the test extra installs br and zstd


def test_without_brotli_and_zstd_only_gzip_and_deflate_are_advertised(server):
    script = f"""
import sys
for name in ("brotli", "brotlicffi", "backports.zstd", "compression.zstd", "zstandard"):
    sys.modules[name] = None
import chatmini
client = chatmini.Client(api_key="k", base_url={server.base_url!r})
client.chat.completions.create(model="m", messages=[{{"role": "user", "content": "hi"}}])
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert server.requests[-1].headers["Accept-Encoding"] == "gzip,deflate"


def test_the_caller_can_turn_compressed_answers_off(make_client, server):
    create(make_client(default_headers={"Accept-Encoding": "identity"}))
    assert server.requests[-1].headers["Accept-Encoding"] == "identity"


@pytest.mark.framings
@pytest.mark.parametrize("coding", ADVERTISED)
def test_every_advertised_coding_decodes(client, server, coding):
    server.enqueue(Reply(content_encoding=coding, content="squeezed " * 50))
    assert create(client).choices[0].message.content == "squeezed " * 50
    server.enqueue(Reply(content_encoding=coding, content="streamed words arrive whole"))
    with create(client, stream=True) as stream:
        assert "".join(stream.text_deltas()) == "streamed words arrive whole"
        assert stream.completed


@pytest.mark.framings
@pytest.mark.parametrize("coding", ADVERTISED)
def test_compressed_streams_deliver_the_first_event_at_once(client, server, coding):
    server.enqueue(Reply(content_encoding=coding, pause_after=1, pause=30))
    start = time.monotonic()
    with create(client, stream=True) as stream:
        first = next(stream)
        waited = time.monotonic() - start
    assert first.choices[0].delta.role == "assistant"
    assert waited < 10  # a decoder that buffered would wait out the 30 s pause


def test_a_body_that_does_not_decode_is_a_clear_error(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(body=b"not really gzip", content_type="application/json",
                         headers={"Content-Encoding": "gzip"}))
    with pytest.raises(chatmini.APIConnectionError, match="could not be decoded"):
        create(client)


def test_an_unknown_coding_reaches_the_caller_as_a_validation_error(make_client, server):
    client = make_client(max_retries=0)
    data = json.dumps({"choices": []}).encode()[::-1]  # bytes no decoder was asked to undo
    server.enqueue(Reply(body=data, content_type="application/json",
                         headers={"Content-Encoding": "x-private"}))
    with pytest.raises(chatmini.APIResponseValidationError, match="Expected a JSON object"):
        create(client)
