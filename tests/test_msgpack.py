"""The MessagePack plugin against the test server, which speaks it: request bodies, answers,
retries, streams, compression on top, and every way it can go wrong."""

from __future__ import annotations

import sys

import msgpack
import pytest

import chatmini
from chatmini.plugins.compression import Compression
from chatmini.plugins.msgpack_codec import MessagePack
from chatmini.testing import Reply

from .conftest import HI


def create(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, **kw)


class AnswerTypes:
    """Notes the Content-Type of every answer."""

    def __init__(self):
        self.seen = []

    @chatmini.hookimpl
    def chatmini_after_attempt(self, response):
        self.seen.append(response.headers.get("content-type"))


def test_bodies_go_and_come_back_as_msgpack(make_client, server):
    types = AnswerTypes()
    client = make_client(plugins=[MessagePack(), types])
    reply = create(client, temperature=0.5)
    assert reply.choices[0].message.content == "echo: hi" and reply.usage.total_tokens > 0
    assert types.seen == ["application/msgpack"]
    recorded = server.requests[-1]
    assert recorded.headers["Content-Type"] == "application/msgpack"
    assert recorded.headers["Accept"].startswith("application/msgpack")
    assert msgpack.unpackb(recorded.body) == {"model": "m", "messages": HI, "temperature": 0.5}
    assert client.models.list().data[0].id == "gpt-4o-mini"  # a GET: no body, msgpack answer


def test_retries_resend_the_same_msgpack_bytes(make_client, server):
    client = make_client(plugins=[MessagePack()])
    server.enqueue(Reply(status=503), Reply(status=500))
    create(client)
    bodies = [r.body for r in server.requests]
    assert len(bodies) == 3 and len(set(bodies)) == 1
    assert msgpack.unpackb(bodies[0])["messages"] == HI


def test_with_compression_the_msgpack_body_is_compressed(make_client, server):
    long = [{"role": "user", "content": "packed and squeezed " * 100}]
    client = make_client(plugins=[Compression("zstd"), MessagePack()])
    reply = client.chat.completions.create(model="m", messages=long)
    assert reply.choices[0].message.content == "echo: " + long[0]["content"]
    recorded = server.requests[-1]
    assert recorded.headers["Content-Encoding"] == "zstd"
    assert recorded.headers["Content-Type"] == "application/msgpack"
    assert recorded.json["messages"] == long


@pytest.mark.framings
def test_streams_send_msgpack_and_read_events(make_client, server):
    client = make_client(plugins=[MessagePack()])
    with create(client, stream=True) as stream:
        assert "".join(stream.text_deltas()) == "echo: hi"
    recorded = server.requests[-1]
    assert recorded.headers["Accept"] == "text/event-stream"
    assert msgpack.unpackb(recorded.body)["stream"] is True


def test_json_answers_still_decode(make_client, server):
    types = AnswerTypes()
    client = make_client(plugins=[MessagePack(), types])
    server.enqueue(Reply(body={"object": "list", "data": []}))
    assert client.models.list().data == []
    assert types.seen == ["application/json"]


def test_send_and_accept_can_be_turned_off(make_client, server):
    create(make_client(plugins=[MessagePack(send=False)]))
    recorded = server.requests[-1]
    assert recorded.headers["Content-Type"] == "application/json"
    assert recorded.headers["Accept"].startswith("application/msgpack")
    types = AnswerTypes()
    create(make_client(plugins=[MessagePack(accept=False), types]))
    assert server.requests[-1].headers["Accept"] == "application/json"
    assert server.requests[-1].headers["Content-Type"] == "application/msgpack"
    assert types.seen == ["application/json"]


def test_a_body_that_does_not_unpack_is_a_validation_error(make_client, server):
    client = make_client(plugins=[MessagePack()], max_retries=0)
    server.enqueue(Reply(body=b"\x93\x01", content_type="application/msgpack"))  # truncated
    with pytest.raises(chatmini.APIResponseValidationError, match="does not decode"):
        create(client)
    server.enqueue(Reply(body=msgpack.packb([1, 2]), content_type="application/msgpack"))
    with pytest.raises(chatmini.APIResponseValidationError, match="Expected a JSON object"):
        create(client)  # decodes, but is no completion object


def test_an_unpackable_request_fails_before_sending(make_client, server):
    client = make_client(plugins=[MessagePack()])
    with pytest.raises(chatmini.InvalidRequestError, match="not MessagePack-serialisable"):
        create(client, seed=2**70)  # valid JSON, too large for MessagePack
    assert server.requests == []


def test_error_answers_keep_their_json_message(make_client, server):
    client = make_client(plugins=[MessagePack()])
    server.enqueue(Reply(status=400, body={"error": {"message": "bad temperature"}}))
    with pytest.raises(chatmini.BadRequestError, match="bad temperature"):
        create(client)


def test_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "msgpack", None)
    with pytest.raises(chatmini.InvalidRequestError, match=r"pip install 'chatmini\[msgpack\]'"):
        MessagePack()


def test_lazy_export_and_plugin_name(make_client):
    client = make_client(plugins=[chatmini.MessagePack()])
    assert client.plugin_host.get("msgpack") is not None
    assert repr(client.plugin_host.get("msgpack")) == "<MessagePack send=True accept=True>"
