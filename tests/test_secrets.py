"""The API key never shows: reprs, logs at every level, exception messages, trace output."""

from __future__ import annotations

import logging

import pytest

import chatmini
from chatmini.redaction import header_secrets, redact_headers, scrub
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET_KEY not in text
        assert SECRET_KEY[3:] not in text  # not even without its prefix


def test_client_and_plugin_reprs_hide_the_key(client):
    assert_no_secret(repr(client), str(client), repr(client.plugin_host.get("api_key")))
    assert "api_key=set" in repr(client)


def test_request_repr_redacts_credential_headers(client):
    request = client.build_request("POST", "/chat/completions", {"model": "m"})
    request.headers["Authorization"] = f"Bearer {SECRET_KEY}"
    request.headers["api-key"] = SECRET_KEY
    assert_no_secret(repr(request))
    assert "<redacted>" in repr(request)


def test_logs_at_debug_never_carry_the_key(make_client, server, caplog):
    caplog.set_level(logging.DEBUG)  # chatmini, urllib3, everything
    client = make_client(api_key_header="api-key")
    server.enqueue(Reply(status=500), Reply(status=401))
    with pytest.raises(chatmini.AuthenticationError):
        client.chat.completions.create(model="m", messages=HI)
    records = [r.getMessage() for r in caplog.records]
    assert any("retrying" in r for r in records) and any("sending" in r for r in records)
    assert_no_secret(caplog.text, *records)


def test_exceptions_hide_a_key_the_server_echoes(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=401, body={"error": {
        "message": f"Incorrect API key provided: {SECRET_KEY}.", "code": "invalid_api_key"}}))
    with pytest.raises(chatmini.AuthenticationError) as info:
        client.chat.completions.create(model="m", messages=HI)
    err = info.value
    assert_no_secret(str(err), repr(err), err.message, repr(err.request))
    assert "<redacted>" in str(err)


def test_connection_errors_hide_the_key(make_client, server):
    client = make_client(max_retries=0, timeout=(2, 0.2))
    server.enqueue(Reply(delay=1))
    with pytest.raises(chatmini.APITimeoutError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert_no_secret(str(info.value), repr(info.value))


@pytest.mark.framings
def test_stream_errors_hide_the_key(client, server):
    server.enqueue(Reply(cut_after=1))
    with pytest.raises(chatmini.IncompleteStreamError) as info:
        list(client.chat.completions.create(model="m", messages=HI, stream=True))
    assert_no_secret(str(info.value), repr(info.value))


def test_redaction_helpers():
    headers = {"Authorization": "Bearer abc", "API-Key": "k", "X-Other": "v"}
    assert redact_headers(headers) == {
        "Authorization": "<redacted>", "API-Key": "<redacted>", "X-Other": "v"}
    assert scrub("key sk-12345678 bad", {"authorization": "Bearer sk-12345678"}) == (
        "key <redacted> bad")
    # any credential header name is honoured, even one no Client accepts (it refuses "")
    assert redact_headers({"": "sk-12345678"}, "") == {"": "<redacted>"}
    assert list(header_secrets({"": "sk-12345678"}, "")) == ["sk-12345678"]


KEY_HEAD = SECRET_KEY[:12]  # what an excerpt cut through the key would leave


@pytest.mark.parametrize("offset", [150, 190, 195, 199])
def test_an_excerpt_never_cuts_through_an_echoed_key(make_client, server, offset):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=500, body="x" * offset + SECRET_KEY + " tail " * 50))
    with pytest.raises(chatmini.InternalServerError) as info:
        client.chat.completions.create(model="m", messages=HI)
    err = info.value
    assert_no_secret(str(err), repr(err), str(err.body))
    assert KEY_HEAD not in str(err)


@pytest.mark.framings
def test_stream_error_events_hide_an_echoed_key(client, server):
    server.enqueue(Reply(error_event={"error": {
        "message": f"bad key {SECRET_KEY}", "type": "invalid_request_error"}}))
    with pytest.raises(chatmini.APIError) as info:
        list(client.chat.completions.create(model="m", messages=HI, stream=True))
    assert_no_secret(str(info.value), repr(info.value), repr(info.value.body))
    assert "<redacted>" in str(info.value)


@pytest.mark.parametrize("raw", [
    ("x" * 190 + SECRET_KEY).encode(),  # a 200 that is not JSON (a gateway's page)
    b"{" + SECRET_KEY.encode() * 20,
])
def test_validation_errors_hide_an_echoed_key(client, server, raw):
    server.enqueue(Reply(body=raw, content_type="text/html"))
    with pytest.raises(chatmini.APIResponseValidationError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert_no_secret(str(info.value))
    assert KEY_HEAD not in str(info.value)


@pytest.mark.framings
def test_non_json_stream_events_hide_an_echoed_key(client, server):
    server.enqueue(Reply(raw_stream=b"data: " + b"y" * 190 + SECRET_KEY.encode() + b"\n\n"))
    with pytest.raises(chatmini.APIResponseValidationError) as info:
        list(client.chat.completions.create(model="m", messages=HI, stream=True))
    assert_no_secret(str(info.value))
    assert KEY_HEAD not in str(info.value)
