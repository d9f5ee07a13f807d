"""The compression plugin over real sockets: large bodies compressed once per call, retries
resend the same bytes, and servers that refuse compressed bodies give a clear error or, when
asked, one uncompressed replay and a remembered host."""

from __future__ import annotations

import logging

import pytest

import chatmini
from chatmini import codings
from chatmini.plugins.compression import Compression, CompressionRejectedError
from chatmini.testing import Reply, Server

from .conftest import SECRET_KEY

LONG = [{"role": "user", "content": "a long retrieved context, " * 200}]


def create(client, messages=LONG, **kw):
    return client.chat.completions.create(model="m", messages=messages, **kw)


def sent(server, index=-1):
    """(Content-Encoding, Content-Length, wire body, decoded JSON) of one recorded request."""
    record = server.requests[index]
    return (record.headers.get("Content-Encoding"), int(record.headers["Content-Length"]),
            record.body, record.json)


@pytest.mark.parametrize("encoding", ["gzip", "zstd", "br"])
def test_large_bodies_are_compressed(make_client, server, encoding):
    client = make_client(plugins=[Compression(encoding)])
    reply = create(client)
    assert reply.choices[0].message.content == "echo: " + LONG[0]["content"]
    coding, length, wire, body = sent(server)
    assert coding == encoding and length == len(wire)
    assert body["messages"] == LONG
    plain = client.build_request("POST", "/chat/completions", body).body
    assert codings.decompress(encoding, wire) == plain and len(wire) < len(plain) // 10


def test_small_bodies_and_unhelpful_compression_are_sent_plain(make_client, server):
    client = make_client(plugins=[Compression()])  # min_size 1024
    create(client, messages=[{"role": "user", "content": "hi"}])
    assert sent(server)[0] is None
    client = make_client(plugins=[Compression(min_size=0)])
    client.post("/echo", {})  # b"{}" only grows when gzipped
    coding, length, wire, _ = sent(server)
    assert (coding, wire, length) == (None, b"{}", 2)


def test_retries_resend_the_exact_compressed_bytes(make_client, server, monkeypatch):
    calls = []
    real = codings.compress
    monkeypatch.setattr(codings, "compress", lambda *a: calls.append(a[0]) or real(*a))
    bodies = []

    class Watch:
        @chatmini.hookimpl
        def chatmini_after_attempt(self, request):
            bodies.append(request.body)

    client = make_client(plugins=[Compression(), Watch()])
    server.enqueue(Reply(status=503), Reply(drop=True))
    create(client)
    assert len(server.requests) == 3 and calls == ["gzip"]  # compressed once for the call
    assert bodies[0] is bodies[1] is bodies[2]
    assert {r.body for r in server.requests} == {bodies[0]}
    assert all(r.headers["Content-Encoding"] == "gzip" for r in server.requests)
    create(client)
    assert calls == ["gzip", "gzip"]  # the next call compresses its own body


@pytest.mark.framings
def test_streams_are_compressed_too(make_client, server):
    client = make_client(plugins=[Compression("zstd")])
    with create(client, stream=True) as stream:
        assert "".join(stream.text_deltas()).startswith("echo: a long retrieved")
    assert sent(server)[0] == "zstd" and sent(server)[3]["stream"] is True


def test_a_415_is_a_clear_error_and_not_retried(make_client, server):
    client = make_client(plugins=[Compression()])
    server.enqueue(Reply(status=415, body={"error": {"message": f"nope {SECRET_KEY}"}}))
    with pytest.raises(CompressionRejectedError) as caught:
        create(client)
    error = caught.value
    assert isinstance(error, chatmini.APIStatusError) and error.status_code == 415
    assert f"127.0.0.1:{server.port} rejects compressed request bodies" in str(error)
    assert "Content-Encoding: gzip" in str(error) and "retry_uncompressed=True" in str(error)
    assert SECRET_KEY not in str(error)
    assert len(server.requests) == 1


def test_a_stream_refused_with_415_is_the_same_error(make_client):
    with Server(request_encodings=()) as refusing:
        client = make_client(plugins=[Compression()], base_url=refusing.base_url)
        with pytest.raises(CompressionRejectedError, match="Unsupported Content-Encoding: gzip"):
            create(client, stream=True)


@pytest.mark.parametrize(("message", "rejected"), [
    ("Unsupported Content-Encoding header", True),
    ("could not decompress the request body", True),
    ("gzip bodies are not accepted", True),
    ("messages: field required", False),
])
def test_a_400_counts_only_when_it_names_the_encoding(make_client, server, message, rejected):
    client = make_client(plugins=[Compression()])
    server.enqueue(Reply(status=400, body={"error": {"message": message}}))
    with pytest.raises(chatmini.BadRequestError if not rejected else CompressionRejectedError):
        create(client)
    server.enqueue(Reply(status=400, body={"error": {"message": message}}))
    with pytest.raises(chatmini.BadRequestError) as caught:  # an uncompressed body: plain 400
        create(client, messages=[{"role": "user", "content": "hi"}])
    assert not isinstance(caught.value, CompressionRejectedError)


def test_retry_uncompressed_replays_once_and_remembers_the_host(make_client, caplog):
    plugin = Compression(retry_uncompressed=True)
    with Server(request_encodings=()) as refusing, caplog.at_level(logging.WARNING, "chatmini"):
        client = make_client(plugins=[plugin], base_url=refusing.base_url, max_retries=0)
        assert create(client).choices[0].message.content.startswith("echo: a long")
        assert [r.headers.get("Content-Encoding") for r in refusing.requests] == ["gzip", None]
        assert plugin.refusing_hosts == {f"127.0.0.1:{refusing.port}"}
        create(client)
        create(make_client(plugins=[plugin], base_url=refusing.base_url))  # shared instance
        assert [r.headers.get("Content-Encoding") for r in refusing.requests[2:]] == [None, None]
    warnings = [r.getMessage() for r in caplog.records if "refuses compressed" in r.getMessage()]
    assert len(warnings) == 1


def test_a_server_refusing_plain_bodies_too_fails_after_one_replay(make_client, server):
    client = make_client(plugins=[Compression(retry_uncompressed=True)])
    server.enqueue(Reply(status=415), Reply(status=415))
    with pytest.raises(chatmini.APIStatusError) as caught:
        create(client)
    assert caught.value.status_code == 415 and len(server.requests) == 2
    assert not isinstance(caught.value, CompressionRejectedError)  # the plain body was refused


def test_hosts_limit_compression(make_client, server):
    create(make_client(plugins=[Compression(hosts=["api.example.com"])]))
    assert sent(server)[0] is None
    create(make_client(plugins=[Compression(hosts="127.0.0.1")]))
    assert sent(server)[0] == "gzip"
    create(make_client(plugins=[Compression(hosts=[f"127.0.0.1:{server.port}"])]))
    assert sent(server)[0] == "gzip"


def test_a_body_already_encoded_by_the_caller_is_left_alone(make_client, server):
    client = make_client(plugins=[Compression()])
    create(client, extra_headers={"content-encoding": "identity"})
    assert sent(server)[0] == "identity" and sent(server)[3]["messages"] == LONG


def test_settings_are_checked(monkeypatch):
    with pytest.raises(chatmini.InvalidRequestError, match="one of gzip, zstd, br, not 'lz4'"):
        Compression("lz4")
    with pytest.raises(chatmini.InvalidRequestError, match="min_size must be"):
        Compression(min_size=-1)
    with pytest.raises(chatmini.InvalidRequestError, match="zstd level must be"):
        Compression("zstd", level=30)
    assert Compression("brotli").encoding == "br"
    assert repr(Compression(hosts=["b", "a"])) == "<Compression gzip level=1 min_size=1024 for a, b>"
    monkeypatch.setattr(codings, "_MODULES", {**codings._MODULES, "br": _missing})
    with pytest.raises(chatmini.InvalidRequestError, match=r"pip install 'chatmini\[brotli\]'"):
        Compression("br")


def _missing():
    raise ImportError("no brotli here")


def test_lazy_export_and_plugin_name(make_client):
    client = make_client(plugins=[chatmini.Compression()])
    assert client.plugin_host.get("compression") is not None
    client = make_client(plugins=[Compression()], disabled_plugins=["compression"])
    assert client.plugin_host.get("compression") is None
