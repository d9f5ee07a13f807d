"""A credential that cannot go in a header never reaches one: surrounding whitespace is
stripped, anything else is a chatmini error naming the problem and never the value, and
nothing is sent. For api_key=, the environment, token providers, OAuth2 tokens and any
credential plugin; over real sockets."""

from __future__ import annotations

import re
import subprocess
import sys
import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.credentials import clean_credential, credential_problem
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.testing import Reply

from .conftest import HI

KEY = "sk-cred-UNIQUE-5a8e1d0c"
BAD = [
    (KEY[:7] + "\n" + KEY[7:], "line break"),
    (KEY + "\r\nX-Injected: yes", "line break"),
    ("\u201c" + KEY + "\u201d", "non-ASCII character (U+201C)"),
    (KEY[:5] + "\u00a0" + KEY[5:], "non-ASCII character (U+00A0)"),
    (KEY[:5] + "\u00e9" + KEY[5:], "non-ASCII character (U+00E9)"),
    (KEY[:5] + "\x00" + KEY[5:], "control character (U+0000)"),
    (KEY[:5] + "\t" + KEY[5:], "control character (U+0009)"),
    (KEY[:5] + " " + KEY[5:], "a space"),
]


def everything_shown(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(vars(exc))


def assert_value_hidden(exc: BaseException, value: str) -> None:
    text = everything_shown(exc)
    for part in (value, value.strip(), KEY, KEY[:8], KEY[-8:]):
        assert part not in text


def call(client: chatmini.Client) -> str:
    return client.chat.completions.create(model="m", messages=HI).choices[0].message.content


@pytest.mark.parametrize("value", ["  " + KEY, KEY + "\n", KEY + "\r\n", "\t" + KEY + " \r\n"])
def test_surrounding_whitespace_is_stripped(server, value, monkeypatch):
    assert call(chatmini.Client(api_key=value, base_url=server.base_url)) == "echo: hi"
    assert server.requests[-1].headers["Authorization"] == f"Bearer {KEY}"
    monkeypatch.setenv("OPENAI_API_KEY", value)  # a key read from a CRLF .env
    client = chatmini.Client(base_url=server.base_url)
    assert client.api_key == KEY and call(client) == "echo: hi"


@pytest.mark.parametrize("value, problem", BAD)
def test_a_bad_api_key_is_refused_before_anything_is_sent(server, value, problem):
    with pytest.raises(chatmini.InvalidRequestError, match=f"^api_key contains.*{re.escape(problem)}") as info:
        chatmini.Client(api_key=value, base_url=server.base_url)
    assert_value_hidden(info.value, value)
    assert server.requests == []


@pytest.mark.parametrize("value, problem", BAD[:3])
def test_a_bad_key_from_the_environment_names_the_variable(server, monkeypatch, value, problem):
    monkeypatch.setenv("OPENAI_API_KEY", value)
    with pytest.raises(chatmini.InvalidRequestError, match=f"^OPENAI_API_KEY contains.*{re.escape(problem)}"):
        chatmini.Client(base_url=server.base_url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", value)
    with pytest.raises(chatmini.InvalidRequestError, match="^AZURE_OPENAI_API_KEY contains"):
        chatmini.AzureClient(azure_endpoint=server.url)


@pytest.mark.parametrize("value, problem", BAD)
def test_a_bad_token_from_a_provider_is_an_authentication_error(make_client, server, value,
                                                                 problem):
    client = make_client(api_key=None, auth=lambda: value)
    with pytest.raises(chatmini.AuthenticationError, match=f"token from provider .*{re.escape(problem)}") as info:
        call(client)
    assert_value_hidden(info.value, value)
    assert server.requests == []


def test_a_token_provider_token_with_a_trailing_newline_works(make_client, server):
    client = make_client(api_key=None, auth=lambda: (KEY + "\n", 4e9))
    assert call(client) == "echo: hi"
    assert server.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("value, problem", BAD[:4])
def test_a_bad_oauth2_access_token_is_refused_and_not_cached(make_client, server, value,
                                                              problem):
    server.tokens.enqueue(Reply(body={"access_token": value, "token_type": "Bearer",
                                      "expires_in": 3600}))
    oauth = OAuth2ClientCredentials(server.token_url, server.tokens.client_id,
                                    server.tokens.client_secret, max_retries=0)
    client = make_client(api_key=None, auth=oauth)
    with pytest.raises(chatmini.AuthenticationError, match=f"access_token that contains.*{re.escape(problem)}") as info:
        call(client)
    assert_value_hidden(info.value, value)
    assert server.requests == [] and info.value.body is None
    assert call(client) == "echo: hi"  # the next call fetches a good token


@pytest.mark.parametrize("value, problem", BAD[:5])
def test_any_credential_plugin_or_caller_header_is_checked(make_client, server, value, problem):
    class Plugin:
        @chatmini.hookimpl
        def chatmini_authenticate(self, request):
            request.headers["X-Auth"] = value
            return "X-Auth"

    client = make_client(api_key=None, plugins=[Plugin()], max_retries=0)
    with pytest.raises(chatmini.AuthenticationError, match=f"X-Auth header contains.*{re.escape(problem)}") as info:
        call(client)
    assert_value_hidden(info.value, value)
    client = make_client(max_retries=0)  # the caller's own credential header wins, checked:
    # what no header may hold (a line break, non-Latin-1) as the caller's bad argument, what a
    # credential may not hold (a Latin-1 letter, a space) as the credential's
    with pytest.raises((chatmini.AuthenticationError, chatmini.InvalidRequestError),
                       match=r"Authorization header|extra_headers\['authorization'\]") as info:
        client.chat.completions.create(model="m", messages=HI,
                                       extra_headers={"authorization": "Bearer " + value})
    assert_value_hidden(info.value, value)
    assert server.requests == []


def test_chatmini_chat_prints_one_line_without_the_key(server):
    env = {"OPENAI_API_KEY": KEY + "\u201d\n", "OPENAI_BASE_URL": server.base_url,
           "CHATMINI_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "chatmini", "chat", "hi"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("chatmini: error: OPENAI_API_KEY contains a non-ASCII")
    assert KEY[:8] not in done.stderr + done.stdout


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_a_cleaned_credential_is_always_sendable(value):
    try:
        clean = clean_credential(value, "api_key")
    except chatmini.InvalidRequestError as exc:
        stripped = value.strip()
        assert not stripped or credential_problem(stripped) is not None
        assert not stripped or stripped not in str(exc)
        return
    assert clean == value.strip() and clean
    clean.encode("ascii")
    assert all(0x21 <= ord(c) <= 0x7E for c in clean)
