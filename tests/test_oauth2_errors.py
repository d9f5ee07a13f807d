"""Every token-endpoint failure ends in a clear chatmini error naming the endpoint; secrets never
show in messages, reprs, logs or plugin traces."""

from __future__ import annotations

import logging
import socket

import pytest

import chatmini
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.testing import Reply

from .auth_support import CLIENT_SECRET, create, oauth_for


def fails_with(make_client, server, error_class, **options):
    """Make one call that must fail fetching a token; the API itself is never reached."""
    client = make_client(api_key=None, auth=oauth_for(server, **options))
    with pytest.raises(error_class) as info:
        create(client)
    assert server.requests == []  # no token, no API request
    assert server.token_url in str(info.value)
    return info.value


@pytest.mark.parametrize("status, error, description", [
    (400, "invalid_scope", "scope chat.admin is not allowed"),
    (400, "invalid_request", None),
    (401, "invalid_client", "client authentication failed"),
    (403, "unauthorized_client", "grant not allowed for this client"),
])
def test_oauth_error_answers_name_the_endpoint_and_the_error(
        make_client, server, status, error, description):
    body = {"error": error, **({"error_description": description} if description else {})}
    server.tokens.enqueue(Reply(status=status, body=body))
    exc = fails_with(make_client, server, chatmini.AuthenticationError)
    assert f"HTTP {status}: {error}" in str(exc)
    assert description is None or description in str(exc)
    assert (exc.status_code, exc.code, exc.body) == (status, error, body)
    assert server.tokens.calls == 1  # a 4xx is not retried


def test_a_wrong_client_secret_is_refused_by_the_endpoint(make_client, server):
    client = make_client(api_key=None, auth=OAuth2ClientCredentials(
        server.token_url, server.tokens.client_id, "not-the-secret", max_retries=0))
    with pytest.raises(chatmini.AuthenticationError, match="HTTP 401: invalid_client"):
        create(client)


def test_an_openai_shaped_error_body_is_understood(make_client, server):
    server.tokens.enqueue(Reply(status=401, body={"error": {
        "message": "gateway says no", "type": "invalid_request_error", "code": "bad_key"}}))
    exc = fails_with(make_client, server, chatmini.AuthenticationError)
    assert "bad_key: gateway says no" in str(exc) and exc.code == "bad_key"


@pytest.mark.parametrize("failure", [
    Reply(status=500), Reply(status=503, headers={"Retry-After": "0"}), Reply(status=429),
    Reply(drop=True), Reply(status=502, body="<html>bad gateway</html>",
                            content_type="text/html"),
])
def test_5xx_429_and_dropped_connections_are_retried(make_client, server, failure):
    server.tokens.enqueue(failure, failure)
    client = make_client(api_key=None, auth=oauth_for(server))
    assert create(client).choices
    assert server.tokens.calls == 3 and len(server.requests) == 1


def test_persistent_5xx_fails_after_the_retries_without_retrying_the_call(make_client, server):
    server.tokens.enqueue(*[Reply(status=503)] * 6)
    exc = fails_with(make_client, server, chatmini.AuthenticationError)
    assert "HTTP 503: server_error" in str(exc)
    assert server.tokens.calls == 3  # 1 + max_retries of the token endpoint, not multiplied


def test_a_non_json_5xx_names_its_content_type(make_client, server):
    page = Reply(status=502, body="<html>upstream down</html>", content_type="text/html")
    server.tokens.enqueue(page, page)
    exc = fails_with(make_client, server, chatmini.AuthenticationError, retry=chatmini.RetryPolicy(
        1, backoff_factor=0.01, backoff_jitter=0.0))
    assert "HTTP 502: text/html: <html>upstream down</html>" in str(exc)


@pytest.mark.parametrize("body, content_type, expected", [
    ("<html>login page</html>", "text/html", "no JSON object: text/html: <html>login page"),
    ("", None, "no JSON object: text/plain; charset=utf-8: (empty body)"),
    ([1, 2], None, "no JSON object"),
    ({"token_type": "Bearer", "expires_in": 60}, None, "no access_token; fields: expires_in"),
    ({"access_token": "", "expires_in": 60}, None, "no access_token"),
    ({"access_token": 5}, None, "no access_token"),
    ({"access_token": "mac-token", "token_type": "mac"}, None, "token_type 'mac'"),
])
def test_unusable_success_answers(make_client, server, body, content_type, expected):
    server.tokens.enqueue(Reply(body=body, content_type=content_type))
    exc = fails_with(make_client, server, chatmini.AuthenticationError)
    assert expected in str(exc) and "mac-token" not in str(exc)
    assert server.tokens.calls == 1


ISSUED = "at-TOKEN-3f9c1a7e5b2d8064"


@pytest.mark.parametrize("body, content_type", [
    ([ISSUED], None), ([[{"x": ISSUED}]], None), (ISSUED, "text/plain"),
    (f'"{ISSUED}"', "application/json"), (f"<p>token: {ISSUED}</p>", "text/html"),
])
def test_a_success_answer_without_a_json_object_never_shows_a_token(
        make_client, server, body, content_type):
    server.tokens.enqueue(Reply(body=body, content_type=content_type))
    exc = fails_with(make_client, server, chatmini.AuthenticationError)
    shown = f"{exc} {exc!r} {exc.body!r}"
    assert ISSUED not in shown and ISSUED[3:19] not in shown and "<redacted>" in shown


def test_a_timeout_is_an_api_timeout_error_naming_the_endpoint(make_client, server):
    server.tokens.enqueue(Reply(delay=2))
    exc = fails_with(make_client, server, chatmini.APITimeoutError, timeout=(2, 0.2),
                     max_retries=0, retry=None)
    assert "timed out" in str(exc)


def test_a_timeout_is_retried(make_client, server):
    server.tokens.enqueue(Reply(delay=2))
    client = make_client(api_key=None, auth=oauth_for(server, timeout=(2, 0.2)))
    assert create(client).choices and server.tokens.calls == 2


def test_a_refused_connection_is_an_api_connection_error(make_client, server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    oauth = OAuth2ClientCredentials(f"http://127.0.0.1:{port}/oauth/token", "id", CLIENT_SECRET,
                                    retry=chatmini.RetryPolicy(1, backoff_factor=0.01))
    client = make_client(api_key=None, auth=oauth)
    with pytest.raises(chatmini.APIConnectionError) as info:
        create(client)
    assert f"127.0.0.1:{port}/oauth/token" in str(info.value)
    assert server.requests == []


def test_waiting_threads_share_one_failure(make_client, server):
    server.tokens.enqueue(Reply(status=400, body={"error": "invalid_client"}))
    oauth = oauth_for(server)
    client = make_client(api_key=None, auth=oauth)
    with pytest.raises(chatmini.AuthenticationError):
        create(client)
    assert create(client).choices  # the next call tries again
    assert server.tokens.calls == 2


# -- secrets ---------------------------------------------------------------------------------


def secrets_of(server):
    return [CLIENT_SECRET, *server.tokens.issued]


def assert_hidden(secrets, *texts):
    assert len(secrets) >= 1
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_echoed_secrets_are_scrubbed_from_errors(make_client, server):
    server.tokens.configure(refresh_tokens=True)
    client = make_client(api_key=None, auth=oauth_for(server, auth_method="post"))
    create(client)
    refresh = server.tokens.issued[1]
    server.tokens.enqueue(
        Reply(status=400, body={"error": "invalid_grant",
                                "error_description": f"refresh token {refresh} expired"}),
        Reply(status=401, body=f"<p>bad secret {CLIENT_SECRET}</p>", content_type="text/html"),
    )
    server.enqueue(Reply(status=401))
    with pytest.raises(chatmini.AuthenticationError) as info:
        create(client)
    exc = info.value
    assert "HTTP 401: text/html" in str(exc) and "<redacted>" in str(exc)
    assert server.tokens.grants[-2:] == ["refresh_token", "client_credentials"]
    assert_hidden(secrets_of(server), str(exc), repr(exc), exc.message)


def test_reprs_logs_and_traces_never_show_secrets(make_client, server, caplog, capfd,
                                                  monkeypatch):
    monkeypatch.setenv("CHATMINI_TRACE_PLUGINS", "1")
    caplog.set_level(logging.DEBUG)
    server.tokens.configure(require=True, refresh_tokens=True, jwt=True)
    oauth = oauth_for(server)
    client = make_client(api_key=None, auth=oauth)
    create(client)
    server.tokens.revoke_access_tokens()
    server.tokens.enqueue(Reply(status=500))
    create(client)  # 401, replay: refresh grant after one 500
    refused = Reply(status=400, body={"error": "invalid_scope"})
    server.tokens.enqueue(refused, refused)  # the refresh grant, then client credentials
    server.tokens.revoke_access_tokens()
    server.tokens.revoke_refresh_tokens()
    with pytest.raises(chatmini.AuthenticationError) as info:
        create(client)
    out, err = capfd.readouterr()
    messages = [r.getMessage() for r in caplog.records]
    assert any("OAuth2 token" in m for m in messages) and "chatmini_prepare_request" in err
    texts = [repr(oauth), str(oauth), repr(oauth.cache), repr(oauth.token()), repr(client),
             str(info.value), repr(info.value), caplog.text, *messages, out, err]
    assert len(server.tokens.issued) >= 4
    assert_hidden(secrets_of(server), *texts)
    assert_hidden([CLIENT_SECRET.split("-")[-1]], *texts)  # not even a part of it
