"""The built-in logging plugin: one INFO record per call, DEBUG redacted, bodies only on request,
CHATMINI_LOG for quick debugging; secrets never reach a record."""

from __future__ import annotations

import logging

import pytest

import chatmini
from chatmini.plugins import call_log
from chatmini.redaction import redact_url, scrub_text
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY

QUERY_SECRET = "qs-UNIQUE-7d1e5a3c9b"
BODY_SECRET = "body-UNIQUE-2b8f4e6a0c"
PROMPT = "tell me about rivers"


@pytest.fixture(autouse=True)
def _no_log_env(monkeypatch):
    """A developer's CHATMINI_LOG or CHATMINI_LOG_BODY must not change these tests."""
    monkeypatch.delenv(call_log.LOG_ENV, raising=False)
    monkeypatch.delenv(call_log.BODY_ENV, raising=False)


def chatmini_records(caplog, level=None):
    return [r for r in caplog.records
            if r.name == "chatmini" and (level is None or r.levelno == level)]


def assert_no_secrets(text):
    for secret in (SECRET_KEY, SECRET_KEY[3:], QUERY_SECRET, BODY_SECRET):
        assert secret not in text


def test_one_info_record_per_call(make_client, server, caplog):
    caplog.set_level(logging.INFO, logger="chatmini")
    client = make_client(max_retries=2)
    server.enqueue(Reply(status=500), Reply(status=429))
    client.chat.completions.create(model="m", messages=HI)
    (record,) = chatmini_records(caplog)
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert message.startswith("POST /v1/chat/completions 200 ")
    assert " ms retries=2 " in message and "request_id=req_3" in message
    assert (record.http_method, record.http_path, record.http_status, record.retries) == (
        "POST", "/v1/chat/completions", 200, 2)
    assert record.duration_ms > 0 and record.request_id == "req_3"


def test_info_for_failures_and_streams(make_client, server, caplog):
    caplog.set_level(logging.INFO, logger="chatmini")
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=400))
    with pytest.raises(chatmini.BadRequestError):
        client.chat.completions.create(model="m", messages=HI)
    with client.chat.completions.create(model="m", messages=HI, stream=True) as stream:
        list(stream)
    first, second = (r.getMessage() for r in chatmini_records(caplog, logging.INFO))
    assert first.startswith("POST /v1/chat/completions 400 BadRequestError ")
    assert second.startswith("POST /v1/chat/completions 200 ") and " ttft=" in second


def test_debug_redacts_headers_and_query(make_client, server, caplog):
    caplog.set_level(logging.DEBUG, logger="chatmini")
    client = make_client(default_query={"api-key": QUERY_SECRET, "api-version": "2024-06-01"})
    server.enqueue(Reply(status=503, headers={"Set-Cookie": f"session={BODY_SECRET}"}))
    client.chat.completions.create(model="m", messages=HI)
    messages = [r.getMessage() for r in chatmini_records(caplog)]
    assert any(m.startswith("sending ") for m in messages)
    received = [m for m in messages if m.startswith("received HTTP")]
    assert len(received) == 2 and "'Set-Cookie': '<redacted>'" in received[0]
    assert "api-version=2024-06-01" in received[0] and "api-key=<redacted>" in received[0]
    assert not any("body" in m for m in messages)  # bodies are opt-in
    assert_no_secrets(caplog.text)


def test_debug_scrubs_a_key_echoed_in_a_response_header(make_client, server, caplog):
    caplog.set_level(logging.DEBUG, logger="chatmini")
    client = make_client(api_key_header="api-key", max_retries=0)
    server.enqueue(Reply(headers={
        "X-Echo": f"you sent {SECRET_KEY}", "X-Token": "Bearer tok-1234567890", "X-Plain": "kept"}))
    client.chat.completions.create(model="m", messages=HI)
    received = [m for m in (r.getMessage() for r in chatmini_records(caplog))
                if m.startswith("received HTTP")]
    assert len(received) == 1 and "'X-Echo': 'you sent <redacted>'" in received[0]
    assert "tok-1234567890" not in received[0] and "'X-Plain': 'kept'" in received[0]
    assert_no_secrets(caplog.text)


def test_connection_failures_are_logged_at_debug(make_client, server, caplog):
    caplog.set_level(logging.DEBUG, logger="chatmini")
    client = make_client(max_retries=1)
    server.enqueue(Reply(drop=True))
    client.chat.completions.create(model="m", messages=HI)
    assert any(r.getMessage().startswith("no response for POST") for r in chatmini_records(caplog))


def test_bodies_when_asked_are_scrubbed(make_client, server, caplog):
    caplog.set_level(logging.DEBUG, logger="chatmini")
    client = make_client(default_query={"api-key": QUERY_SECRET}, max_retries=0)
    client.plugin_host.get("logging").bodies = True
    messages = [{"role": "user", "content": PROMPT}]
    server.enqueue(Reply(status=401, body={"error": {
        "message": f"Incorrect API key provided: {SECRET_KEY}, see ?token={BODY_SECRET}"}}))
    with pytest.raises(chatmini.AuthenticationError):
        client.post("/chat/completions", json={
            "model": "m", "messages": messages, "metadata": {"client_secret": BODY_SECRET}})
    client.chat.completions.create(model="m", messages=messages)
    bodies = [r.getMessage() for r in chatmini_records(caplog) if " body of " in r.getMessage()]
    assert len(bodies) == 4  # request and response, twice
    assert PROMPT in bodies[0] and '"client_secret":"<redacted>"' in bodies[0]
    assert "Incorrect API key provided: <redacted>" in bodies[1]
    assert f"echo: {PROMPT}" in bodies[3]
    assert_no_secrets(caplog.text)


def test_body_logging_from_the_environment(make_client, monkeypatch):
    monkeypatch.setenv(call_log.BODY_ENV, "1")
    assert make_client().plugin_host.get("logging").bodies is True
    monkeypatch.setenv(call_log.BODY_ENV, "0")
    assert make_client().plugin_host.get("logging").bodies is False


@pytest.fixture
def env_logging(monkeypatch):
    """Whatever CHATMINI_LOG configures is undone after the test."""
    logger = logging.getLogger("chatmini")
    level = logger.level
    yield monkeypatch
    for handler in [h for h in logger.handlers if isinstance(h, call_log.StderrHandler)]:
        logger.removeHandler(handler)
    logger.setLevel(level)


def test_chatmini_log_env_writes_to_stderr(env_logging, make_client, server, capsys):
    env_logging.setenv(call_log.LOG_ENV, "debug")
    client = make_client()
    make_client()  # a second client adds no second handler
    client.chat.completions.create(model="m", messages=HI)
    lines = capsys.readouterr().err.splitlines()
    assert any(" chatmini INFO POST /v1/chat/completions 200 " in line for line in lines)
    assert any(" chatmini DEBUG sending " in line for line in lines)
    assert len([line for line in lines if " INFO " in line]) == 1
    assert_no_secrets("\n".join(lines))


def test_chatmini_log_env_info_and_bad_values(env_logging, make_client, capsys):
    env_logging.setenv(call_log.LOG_ENV, "INFO")
    make_client().chat.completions.create(model="m", messages=HI)
    err = capsys.readouterr().err
    assert " chatmini INFO " in err and " DEBUG " not in err
    env_logging.setenv(call_log.LOG_ENV, "loud")
    with pytest.warns(UserWarning, match="CHATMINI_LOG='loud' ignored"):
        assert call_log.configure_from_env() is None


def test_nothing_is_logged_by_default(make_client, capsys):
    make_client().chat.completions.create(model="m", messages=HI)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("url", "expected"), [
    ("https://h/v1/chat?api-version=1&api-key=abc", "https://h/v1/chat?api-version=1&api-key=<redacted>"),
    ("https://h/p?token=a&sig=b&x=1", "https://h/p?token=<redacted>&sig=<redacted>&x=1"),
    ("https://h/p", "https://h/p"),
])
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_scrub_text():
    text = ('{"api_key": "k-123456789", "max_tokens": 5, "note": "Bearer abcdefghijkl",'
            ' "other": "sk-proj-123456789abc", "echo": "xyzzy-long-secret"}')
    scrubbed = scrub_text(text, {"x-api-key": "xyzzy-long-secret"})
    assert scrubbed == ('{"api_key": "<redacted>", "max_tokens": 5, "note": "Bearer <redacted>",'
                        ' "other": "<redacted>", "echo": "<redacted>"}')
