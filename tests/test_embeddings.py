"""client.embeddings over real sockets: base64 asked for and decoded unless a format is named,
floats kept when a server answers floats anyway; the embedded server as the official SDK
reads it."""

from __future__ import annotations

import base64
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.resources.embeddings import decode_vectors
from chatmini.testing import Reply

MODEL = "text-embedding-3-small"


def test_base64_is_asked_for_and_decoded_to_floats(client, server):
    answer = client.embeddings.create(model=MODEL, input=["one", "two"])
    assert server.requests[0].json == {"model": MODEL, "input": ["one", "two"],
                                       "encoding_format": "base64"}
    assert isinstance(answer, chatmini.CreateEmbeddingResponse)
    assert [d.index for d in answer.data] == [0, 1]
    vector = answer.data[0].embedding
    assert len(vector) == 1536 and all(type(v) is float for v in vector)
    assert abs(sum(v * v for v in vector) - 1.0) < 1e-4  # the server's vectors are unit length
    floats = client.embeddings.create(model=MODEL, input=["one", "two"], encoding_format="float")
    assert server.requests[1].json["encoding_format"] == "float"
    assert floats.data[0].embedding == vector  # float32 either way: the same numbers
    assert answer.usage.prompt_tokens == answer.usage.total_tokens == 2
    assert answer.model == MODEL and answer.object == "list"


def test_an_explicit_base64_is_left_as_the_server_sent_it(client):
    answer = client.embeddings.create(model=MODEL, input="x", encoding_format="base64",
                                      dimensions=3)
    encoded = answer.data[0].embedding
    assert isinstance(encoded, str) and len(struct.unpack("<3f", base64.b64decode(encoded))) == 3


def test_floats_from_a_server_that_ignores_the_format_are_kept(client, server):
    server.enqueue(Reply(body={"object": "list", "model": "local", "data": [
        {"object": "embedding", "index": 0, "embedding": [0.5, -0.25]}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1}}))
    assert client.embeddings.create(model="local", input="x").data[0].embedding == [0.5, -0.25]


def test_token_arrays_and_dimensions(client, server):
    answer = client.embeddings.create(model=MODEL, input=[[1, 2, 3], [4]], dimensions=16)
    assert [len(d.embedding) for d in answer.data] == [16, 16]
    assert answer.usage.prompt_tokens == 4
    assert server.requests[0].json["dimensions"] == 16


@pytest.mark.parametrize("body, message", [
    ({"object": "list", "data": []}, "no data"),
    ({"object": "list", "data": [{"index": 0, "embedding": "not base64!"}]}, "not base64"),
    ({"object": "list", "data": [{"index": 0, "embedding": "AAA="}]}, "not base64"),
])
def test_a_broken_answer_is_a_validation_error(client, server, body, message):
    server.enqueue(Reply(body=body))
    with pytest.raises(chatmini.APIResponseValidationError, match=message):
        client.embeddings.create(model=MODEL, input="x")


@pytest.mark.parametrize("value", ["", [], 42, None])
def test_bad_input_is_refused_before_sending(client, server, value):
    with pytest.raises(chatmini.InvalidRequestError, match="input"):
        client.embeddings.create(model=MODEL, input=value)
    assert server.requests == []


def test_the_server_refuses_what_the_api_refuses(client):
    with pytest.raises(chatmini.BadRequestError) as info:
        client.embeddings.create(model=MODEL, input="x", encoding_format="hex")
    assert info.value.param == "encoding_format"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False), min_size=1, max_size=64))
def test_any_float32_vector_decodes_exactly(values):
    encoded = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
    answer = chatmini.CreateEmbeddingResponse({"data": [{"embedding": encoded}]})
    decoded = decode_vectors(answer, None, None).data[0].embedding  # type: ignore[arg-type]
    assert decoded == values


def test_the_official_sdk_reads_the_same_vectors(client, server):
    openai = pytest.importorskip("openai")
    sdk = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    for options in ({}, {"encoding_format": "float"}, {"dimensions": 5}):
        theirs = sdk.embeddings.create(model=MODEL, input=["a", "b"], **options)
        ours = client.embeddings.create(model=MODEL, input=["a", "b"], **options)
        assert [d.embedding for d in theirs.data] == [d.embedding for d in ours.data]
        assert theirs.usage.total_tokens == ours.usage.total_tokens
    assert server.requests[0].json == server.requests[1].json  # the same request, base64
