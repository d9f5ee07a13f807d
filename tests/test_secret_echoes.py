"""No run of 8 or more characters of a secret is ever shown, whatever a hostile server echoes:
the key in any header, in the query string or as an OAuth2 client secret; echoed raw,
URL-encoded or as base64 (an HTTP Basic header), cut anywhere, inside text or JSON. Over real
sockets; "shown" is every message, repr, body, log record and chained cause of the error."""

from __future__ import annotations

import base64
import json
import logging
import traceback
from typing import Any, Callable, Iterable
from urllib.parse import quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.testing import Reply, Server

from .conftest import HI

RUN = 8
CLIENT_ID = "client-7"
# what a credential may be made of (visible ASCII), weighted to the characters keys use
SECRET_CHARS = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=" + "!#$%&*:;?@[]^{|}"
)
secrets_st = st.text(SECRET_CHARS, min_size=RUN, max_size=90)


def echo(secret: str, encoding: str) -> str:
    """The secret as a server may echo it."""
    if encoding == "raw":
        return secret
    if encoding == "url":
        return quote_plus(secret)
    return base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()  # "basic"


def secret_forms(secret: str, encoding: str) -> list[str]:
    """The strings no run of which may be shown: the secret, and the part of its echo that
    encodes nothing but the secret (base64 groups that hold only secret bytes)."""
    if encoding == "basic":
        head = len(CLIENT_ID) + 1
        encoded = echo(secret, encoding)
        start = -(-head // 3) * 4
        end = (head + len(secret)) // 3 * 4
        return [secret, encoded[start:end]]
    return [secret, echo(secret, encoding)]


def assert_no_run(forms: Iterable[str], texts: Iterable[str]) -> None:
    shown = "\n".join(texts)
    for form in forms:
        for i in range(len(form) - RUN + 1):
            assert form[i:i + RUN] not in shown, (form, i)


def shown(exc: BaseException, log: str = "") -> list[str]:
    """Everything of an error a person or a log may see."""
    texts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), log]
    for name, value in vars(exc).items():
        if name == "response":  # the raw answer itself, as the server sent it
            continue
        texts.append(repr(value))
        if isinstance(value, bytes):
            texts.append(value.decode("utf-8", "replace"))
    return texts


def body_with(text: str, as_json: bool) -> tuple[Any, str]:
    if as_json:
        return {"error": {"message": text, "type": "invalid_request_error"}}, "application/json"
    return text, "text/html"


SURFACES = ["bearer", "header", "query", "oauth2", "ok-but-not-json"]


def make_call(server: Server, surface: str, secret: str, body: Any, kind: str) -> Callable[
    [], Any
]:
    """A client whose credential is ``secret`` on ``surface``, and the one call to make."""
    retry = chatmini.RetryPolicy(0)
    if surface == "oauth2":
        server.tokens.enqueue(Reply(status=401, body=body, content_type=kind))
        auth = OAuth2ClientCredentials(server.token_url, CLIENT_ID, secret, retry=retry)
        client = chatmini.Client(base_url=server.base_url, auth=auth, retry=retry)
    else:
        options: dict[str, Any] = {"api_key": secret}
        if surface == "header":
            options["api_key_header"] = "X-Goog-Api-Key"
        if surface == "query":
            options = {"api_key": "unrelated-key", "default_query": {"api-key": secret}}
        client = chatmini.Client(base_url=server.base_url, retry=retry, **options)
        status = 200 if surface == "ok-but-not-json" else 401
        server.enqueue(Reply(status=status, body=body, content_type=kind))
    return lambda: client.chat.completions.create(model="m", messages=HI)


def run_case(server: Server, surface: str, secret: str, body: Any, kind: str) -> list[str]:
    """Make the call with ``secret`` as the credential; what it showed (error and logs)."""
    records: list[str] = []
    handler = _ListHandler(records)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        call = make_call(server, surface, secret, body, kind)
        with pytest.raises(chatmini.ChatminiError) as info:
            call()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    return shown(info.value, "\n".join(records))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=secrets_st,
    encoding=st.sampled_from(["raw", "url", "basic"]),
    surface=st.sampled_from(SURFACES),
    pad=st.integers(0, 260),
    cut=st.integers(0, 200),
    as_json=st.booleans(),
)
def test_no_run_of_a_secret_is_shown_whatever_the_server_echoes(
    secret: str, encoding: str, surface: str, pad: int, cut: int, as_json: bool
) -> None:
    echoed = echo(secret, encoding)
    cut_at = len(echoed) - cut % (len(echoed) + 1)  # the server's echo may itself be cut
    body, kind = body_with("x" * pad + "key: " + echoed[:cut_at] + " tail" * 40, as_json)
    with Server() as server:
        # the same call with another secret and no echo: its text (URLs, log lines) is
        # chatmini's own, so a secret that happens to be a word of it proves nothing
        quiet, _ = body_with("x" * pad + "key: " + "-" * cut_at + " tail" * 40, as_json)
        baseline = "\n".join(run_case(server, surface, "Qz9-baseline-7Wv", quiet, kind))
        texts = run_case(server, surface, secret, body, kind)
    forms = secret_forms(secret, encoding)
    runs = {f[i:i + RUN] for f in forms for i in range(len(f) - RUN + 1)}
    assert_no_run([r for r in runs if r not in baseline], texts)


class _ListHandler(logging.Handler):
    def __init__(self, records: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


# -- the cases one by one (each failed before the scrubbing rule) --------------------------------

SECRET = "sk-echo-UNIQUE-0c5f9e2b7d41"


@pytest.mark.parametrize("header", ["X-Goog-Api-Key", "Ocp-Apim-Subscription-Key"])
def test_a_custom_credential_header_is_secret_in_logs_and_echoes(make_client, server, caplog,
                                                                 header):
    caplog.set_level(logging.DEBUG)
    client = make_client(api_key=SECRET, api_key_header=header, max_retries=0)
    server.enqueue(Reply(status=401, body={"error": {"message": f"bad key {SECRET}"}}))
    with pytest.raises(chatmini.AuthenticationError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert server.requests[-1].headers[header] == SECRET
    assert "sending" in caplog.text and "<redacted>" in caplog.text
    assert_no_run([SECRET], shown(info.value, caplog.text))


def test_a_plugin_credential_header_is_secret_by_what_the_hook_returned(make_client, server,
                                                                          caplog):
    class Signer:
        @chatmini.hookimpl
        def chatmini_authenticate(self, request):
            request.headers["X-Signature"] = SECRET
            return "X-Signature"

    caplog.set_level(logging.DEBUG)
    client = make_client(api_key=None, plugins=[Signer()], max_retries=0)
    server.enqueue(Reply(status=403, body=f"signature {SECRET} refused"))
    with pytest.raises(chatmini.PermissionDeniedError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert "X-Signature': '<redacted>'" in caplog.text
    assert_no_run([SECRET], shown(info.value, caplog.text))


def test_a_validation_error_body_is_scrubbed(make_client, server):
    client = make_client(api_key=SECRET)
    server.enqueue(Reply(body=f"<html>proxy: your key {SECRET}", content_type="text/html"))
    with pytest.raises(chatmini.APIResponseValidationError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert isinstance(info.value.body, bytes) and b"<redacted>" in info.value.body
    assert_no_run([SECRET], shown(info.value))


def test_a_query_string_credential_is_not_in_chained_causes_or_urllib3_logs(caplog):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    caplog.set_level(logging.DEBUG)
    client = chatmini.Client(api_key="k", base_url=f"http://127.0.0.1:{port}/v1",
                             default_query={"api-key": SECRET}, retry=chatmini.RetryPolicy(
                                 1, backoff_factor=0.01, backoff_jitter=0.0))
    with pytest.raises(chatmini.APIConnectionError) as info:
        client.models.list()
    chain = "".join(traceback.format_exception(info.value))
    assert "Connection refused" in chain and "api-key=<redacted>" in chain
    assert "Incremented Retry" in caplog.text
    assert_no_run([SECRET], [chain, caplog.text])


def test_a_query_string_credential_is_not_in_urllib3_request_logs(make_client, server, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(default_query={"api-key": SECRET}, max_retries=1)
    server.enqueue(Reply(status=503))
    client.chat.completions.create(model="m", messages=HI)
    assert server.requests[-1].path.endswith(f"api-key={SECRET}")
    assert '"POST /v1/chat/completions?api-key=<redacted> HTTP/1.1" 503' in caplog.text
    assert_no_run([SECRET], [caplog.text])


@pytest.mark.parametrize("url", [
    f"https://user:{SECRET}@api.example/v1", f"http://{SECRET}@127.0.0.1:9/v1",
])
def test_a_password_in_base_url_is_refused_and_never_shown(url, monkeypatch):
    with pytest.raises(chatmini.InvalidRequestError, match="must not carry credentials") as info:
        chatmini.Client(api_key="k", base_url=url)
    assert_no_run([SECRET], shown(info.value))
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(chatmini.InvalidRequestError) as info:
        chatmini.Client(api_key="k")
    assert_no_run([SECRET], shown(info.value))


def test_a_bad_scheme_in_base_url_does_not_show_its_password():
    with pytest.raises(chatmini.InvalidRequestError, match="http:// or https://") as info:
        chatmini.Client(api_key="k", base_url=f"ftp://u:{SECRET}@host/v1")
    assert_no_run([SECRET], shown(info.value))


# -- the OAuth2 token endpoint -------------------------------------------------------------------


def oauth2(server: Server, **options: Any) -> OAuth2ClientCredentials:
    server.tokens.configure(client_id=CLIENT_ID, client_secret=SECRET)
    return OAuth2ClientCredentials(server.token_url, CLIENT_ID, SECRET,
                                   retry=chatmini.RetryPolicy(0), **options)


def token_failure(make_client, server, reply, **options) -> chatmini.AuthenticationError:
    server.tokens.enqueue(reply)
    client = make_client(api_key=None, auth=oauth2(server, **options))
    with pytest.raises(chatmini.AuthenticationError) as info:
        client.chat.completions.create(model="m", messages=HI)
    return info.value


def test_a_form_encoded_token_answer_is_a_token(make_client, server):
    server.tokens.enqueue(Reply(body="access_token=at-form-1&token_type=bearer&expires_in=60",
                                content_type="application/x-www-form-urlencoded"))
    client = make_client(api_key=None, auth=oauth2(server))
    assert client.chat.completions.create(model="m", messages=HI).choices
    assert server.requests[-1].headers["Authorization"] == "Bearer at-form-1"


def test_an_unusable_form_encoded_answer_never_shows_its_token(make_client, server):
    token = "at-UNIQUE-7e3d0a9c5b1f"
    exc = token_failure(make_client, server, Reply(
        body=f"access_token={token}&token_type=mac", content_type="application/x-www-form-urlencoded"))
    assert "token_type 'mac'" in str(exc) and exc.body is None
    assert_no_run([token], shown(exc))


def test_a_non_json_200_never_shows_a_token(make_client, server):
    token = "at-UNIQUE-7e3d0a9c5b1f"
    exc = token_failure(make_client, server, Reply(
        body=f"<p>ok</p> access_token={token}&token_type=bearer", content_type="text/html"))
    assert "no JSON object: text/html" in str(exc)
    assert_no_run([token], shown(exc))


@pytest.mark.parametrize("offset", [0, 90, 110, 115, 119])
@pytest.mark.parametrize("encoding", ["raw", "url", "basic"])
def test_an_echoed_client_secret_is_scrubbed_before_the_cut_in_every_encoding(
        make_client, server, offset, encoding):
    page = "<html>" + "y" * offset + echo(SECRET, encoding) + "</html>" * 30
    exc = token_failure(make_client, server, Reply(status=502, body=page,
                                                   content_type="text/html"))
    assert "HTTP 502: text/html" in str(exc)
    assert_no_run(secret_forms(SECRET, encoding), shown(exc))


@pytest.mark.parametrize("auth_method", ["basic", "post"])
def test_an_echoed_request_is_scrubbed_from_the_body_too(make_client, server, auth_method):
    echoed = {"error": "invalid_client", "error_description": "you sent",
              "received": {"authorization": echo(SECRET, "basic"),
                           "form": f"grant_type=client_credentials&client_secret={quote_plus(SECRET)}",
                           "client_secret": SECRET}}
    exc = token_failure(make_client, server, Reply(status=401, body=echoed),
                        auth_method=auth_method)
    assert exc.code == "invalid_client" and exc.body["error_description"] == "you sent"
    assert_no_run(secret_forms(SECRET, "basic") + [SECRET, quote_plus(SECRET)], shown(exc))
    assert json.dumps(exc.body).count("<redacted>") >= 3
