"""https against the test server with certificates made per test: verification is on by default,
fails clearly, and a private CA is trusted through verify=, REQUESTS_CA_BUNDLE or SSL_CERT_FILE."""

from __future__ import annotations

import time
from typing import Any, Iterator

import pytest
from urllib3.exceptions import InsecureRequestWarning

import chatmini
from chatmini.testing import Server

from .conftest import HI, SECRET_KEY
from .tls_support import Certificates, make_certificates

BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(autouse=True)
def _no_bundle_from_the_developer(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def certs(tmp_path) -> Certificates:
    return make_certificates(tmp_path)


@pytest.fixture
def https(certs) -> Iterator[Server]:
    with Server(tls=certs.pair) as server:
        yield server


def connect(server: Server, **kwargs: Any) -> chatmini.Client:
    kwargs.setdefault("retry", chatmini.RetryPolicy(1, backoff_factor=0.01, backoff_jitter=0.0))
    return chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url, timeout=(5, 10),
                           **kwargs)


def another_ca(tmp_path) -> str:
    """The certificate of a CA that did not sign the test server's certificate."""
    directory = tmp_path / "other"
    directory.mkdir()
    return str(make_certificates(directory).ca)


def round_trip(client: chatmini.Client) -> None:
    """A plain call and a stream both work over the connection."""
    assert client.chat.completions.create(model="m", messages=HI).choices[0].message.content
    with client.chat.completions.create(model="m", messages=HI, stream=True) as stream:
        assert stream.get_final_completion().choices[0].message.content == "echo: hi"


def assert_verification_failed(client: chatmini.Client, server: Server) -> None:
    start = time.monotonic()
    with pytest.raises(chatmini.APIConnectionError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert not isinstance(info.value, chatmini.APITimeoutError)
    assert "certificate verification failed" in message
    assert "verify=" in message and "SSL_CERT_FILE" in message  # how to fix it
    assert SECRET_KEY not in message and SECRET_KEY not in repr(info.value)
    assert server.requests == []  # nothing, and no key, went over the unverified connection


def test_the_server_serves_https(https):
    assert https.base_url.startswith("https://127.0.0.1:")


def test_a_private_ca_is_refused_by_default(https):
    with connect(https) as client:
        assert_verification_failed(client, https)


def test_a_self_signed_server_is_refused_clearly(tmp_path):
    certs = make_certificates(tmp_path, self_signed=True)
    with Server(tls=certs.pair) as server, connect(server) as client:
        assert_verification_failed(client, server)


def test_a_ca_bundle_argument_is_trusted(https, certs):
    with connect(https, verify=str(certs.ca)) as client:
        round_trip(client)
    assert len(https.requests) == 2


@pytest.mark.parametrize("variable", BUNDLE_VARIABLES)
def test_a_ca_bundle_from_the_environment_is_trusted(https, certs, monkeypatch, variable):
    monkeypatch.setenv(variable, str(certs.ca))
    with connect(https) as client:
        round_trip(client)


def test_requests_ca_bundle_wins_over_ssl_cert_file(https, certs, tmp_path, monkeypatch):
    other = another_ca(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(other))  # a CA that did not sign the server
    with connect(https) as client:
        assert_verification_failed(client, https)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs.ca))
    with connect(https) as client:
        round_trip(client)


def test_the_argument_wins_over_the_environment(https, certs, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs.ca))
    with connect(https, verify=str(another_ca(tmp_path))) as client:
        assert_verification_failed(client, https)


def test_verify_false_skips_the_check_with_urllib3s_warning(https):
    with connect(https, verify=False) as client, pytest.warns(InsecureRequestWarning):
        round_trip(client)


@pytest.mark.parametrize("source", ["argument", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_missing_ca_bundle_is_a_clear_error_at_construction(https, tmp_path, monkeypatch,
                                                                source):
    missing = str(tmp_path / "nowhere.pem")
    kwargs = {"verify": missing} if source == "argument" else {}
    if source != "argument":
        monkeypatch.setenv(source, missing)
    with pytest.raises(chatmini.InvalidRequestError, match="CA bundle") as info:
        connect(https, **kwargs)
    assert "nowhere.pem" in str(info.value)
    if source != "argument":
        assert source in str(info.value)


def test_a_plain_http_client_against_https_fails_clearly(https):
    plain = https.base_url.replace("https://", "http://")
    with chatmini.Client(api_key=SECRET_KEY, base_url=plain, max_retries=0,
                         timeout=(5, 5)) as client:
        with pytest.raises(chatmini.APIConnectionError) as info:
            client.models.list()
    assert SECRET_KEY not in str(info.value)
