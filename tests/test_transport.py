"""Environment settings are resolved once per Client and still honoured: proxies, CA bundle;
closing a Client closes its connections."""

from __future__ import annotations

import gc
import socket

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI


def transport(client):
    return client.plugin_host.get("transport")


def test_http_proxy_from_environment_is_used(monkeypatch, server):
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = chatmini.Client(base_url="http://api.example.test/v1", max_retries=0)
    with pytest.raises(chatmini.NotFoundError):  # the test server is no real proxy: it 404s
        client.chat.completions.create(model="m", messages=HI)
    # but it did receive the call, with the absolute URL as target, as a proxy does
    assert server.requests[-1].path == "http://api.example.test/v1/chat/completions"
    assert transport(client).session.get_adapter(client.base_url)._pools == {}  # requests' way


def test_no_proxy_bypasses_the_proxy(monkeypatch, server):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens: used would fail
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = chatmini.Client(base_url=server.base_url, max_retries=0)
    assert transport(client).proxies == {}
    assert client.models.list().data


def test_unreachable_proxy_is_a_connection_error(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = chatmini.Client(base_url="http://api.example.test/v1", max_retries=0,
                             timeout=(2, 2))
    with pytest.raises(chatmini.APIConnectionError, match="[Pp]roxy"):
        client.models.list()


def test_ca_bundle_from_environment(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert transport(chatmini.Client(api_key="k")).verify == str(bundle)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    assert transport(chatmini.Client(api_key="k")).verify == str(bundle)


def test_session_settings_win_and_trust_env_off(monkeypatch, server):
    import requests

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    session = requests.Session()
    session.trust_env = False
    session.verify = False
    client = chatmini.Client(base_url=server.base_url, session=session)
    assert transport(client).proxies == {} and transport(client).verify is False
    assert client.models.list().data  # a caller's own Session is used as it is


def test_pool_size_is_applied(make_client):
    client = make_client(pool_maxsize=7)
    adapter = client.session.get_adapter(client.base_url)
    assert adapter._pool_maxsize == 7


def open_client_sockets(port: int) -> list[socket.socket]:
    gc.collect()
    return [s for s in gc.get_objects() if isinstance(s, socket.socket) and s.fileno() >= 0
            and s.family == socket.AF_INET and s.type == socket.SOCK_STREAM
            and _peer_port(s) == port]


def _peer_port(sock: socket.socket) -> int:
    try:
        return sock.getpeername()[1]
    except OSError:
        return -1


def test_close_closes_connections_that_responses_still_refer_to(make_client, server):
    client = make_client(max_retries=0)
    with client.chat.completions.create(model="m", messages=HI, stream=True) as stream:
        stream.get_final_completion()  # a finished stream, kept: its response knows the pool
    server.enqueue(Reply(status=400))
    with pytest.raises(chatmini.BadRequestError) as info:  # the error keeps its response
        client.chat.completions.create(model="m", messages=HI)
    assert open_client_sockets(server.port)
    client.close()
    assert open_client_sockets(server.port) == []
    assert stream.completed and info.value.response.status_code == 400
