"""chatmini's own connections: interim 1xx answers skipped (RFC 9110 §15.2), TCP keepalive on
by default, and Client.close() closing every connection it made, the OAuth2 token endpoint's
too. Over real sockets (a raw-socket server where the embedded one cannot send the bytes)."""

from __future__ import annotations

import json
import socket
import sys

import pytest

import chatmini
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.streaming.wire import ChunkedBody
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY
from .raw_server import RawServer, json_answer
from .test_transport import open_client_sockets

COMPLETION = json.dumps({"id": "c", "object": "chat.completion", "choices": [{
    "index": 0, "message": {"role": "assistant", "content": "final"}, "finish_reason": "stop"}]})
EVENTS = (b'data: {"choices":[{"index":0,"delta":{"content":"final"},"finish_reason":"stop"}]}'
          b"\n\ndata: [DONE]\n\n")
INTERIM = {
    "103": b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
    "102": b"HTTP/1.1 102 Processing\r\n\r\n",
    "100": b"HTTP/1.1 100 Continue\r\n\r\n",
    "199": b"HTTP/1.1 199 Whatever\r\nX-A: 1\r\nX-B: 2\r\n\r\n",
}


def interim_then(answers: list[bytes], stream: str = ""):
    """Interim answers, then the answer: a JSON body, or a stream ("sized": Content-Length,
    read by urllib3; "chunked": one HTTP chunk per event, read off the buffer by the core)."""
    def answer(conn: socket.socket, request: bytes) -> None:
        for interim in answers:
            conn.sendall(interim)
        if stream == "sized":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(EVENTS) + EVENTS)
        elif stream == "chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            for event in EVENTS.split(b"\n\n")[:-1]:
                conn.sendall(b"%x\r\n%s\n\n\r\n" % (len(event) + 2, event))
            conn.sendall(b"0\r\n\r\n")
        else:
            conn.sendall(json_answer(COMPLETION.encode()))
    return answer


def client_for(server: RawServer, **options) -> chatmini.Client:
    return chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url, timeout=(2, 5),
                           max_retries=0, **options)


@pytest.mark.parametrize("kinds", [["103"], ["102", "103", "103"], ["100", "199", "103"]])
@pytest.mark.parametrize("stream", ["", "sized", "chunked"])
def test_interim_answers_are_skipped_and_the_connection_stays_in_step(kinds, stream):
    with RawServer(interim_then([INTERIM[k] for k in kinds], stream)) as server:
        client = client_for(server)
        for _ in range(3):  # the same connection: no answer is left behind in it
            if stream:
                with client.chat.completions.create(model="m", messages=HI, stream=True) as s:
                    # chunked: read off the connection's buffer (streaming.wire), past the 1xx
                    assert isinstance(s._body, ChunkedBody) == (stream == "chunked")
                    assert s.get_final_completion().choices[0].message.content == "final"
            else:
                assert client.chat.completions.create(model="m", messages=HI).choices[
                    0].message.content == "final"
        assert server.requests == 3 and server.connections == 1
        client.close()


def test_endless_interim_answers_are_a_connection_error():
    with RawServer(interim_then([INTERIM["103"]] * 40)) as server:
        with pytest.raises(chatmini.APIConnectionError, match="interim"):
            client_for(server).chat.completions.create(model="m", messages=HI)


# -- TCP keepalive -------------------------------------------------------------------------------


def pooled_socket(client: chatmini.Client, url: str) -> socket.socket:
    manager = client.session.get_adapter(url).poolmanager
    connections = [c for key in manager.pools.keys() for c in list(manager.pools[key].pool.queue)
                   if c is not None and c.sock is not None]
    assert connections, "no pooled connection"
    return connections[0].sock


def keepalive_of(sock: socket.socket) -> dict[str, int]:
    found = {"on": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)}
    for name in ("TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT"):
        if hasattr(socket, name):
            found[name] = sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, name))
    return found


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="TCP_KEEPIDLE/INTVL/CNT values as Linux reports them")


@linux_only
def test_keepalive_is_on_by_default(make_client, server):
    client = make_client()
    client.chat.completions.create(model="m", messages=HI)
    assert keepalive_of(pooled_socket(client, server.base_url)) == {
        "on": 1, "TCP_KEEPIDLE": 60, "TCP_KEEPINTVL": 15, "TCP_KEEPCNT": 4}
    assert socket.TCP_NODELAY in [o[1] for o in client.session.get_adapter(
        server.base_url).socket_options]  # urllib3's own default stays


@linux_only
def test_keepalive_is_configurable_and_can_be_turned_off(make_client, server):
    client = make_client(tcp_keepalive=chatmini.TCPKeepAlive(idle=30, interval=5, count=3))
    client.chat.completions.create(model="m", messages=HI)
    assert keepalive_of(pooled_socket(client, server.base_url)) == {
        "on": 1, "TCP_KEEPIDLE": 30, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3}
    client = make_client(tcp_keepalive=False)
    client.chat.completions.create(model="m", messages=HI)
    assert keepalive_of(pooled_socket(client, server.base_url))["on"] == 0


def test_the_oauth2_token_endpoint_keeps_alive_too(make_client, server):
    oauth = OAuth2ClientCredentials(server.token_url, server.tokens.client_id,
                                    server.tokens.client_secret)
    client = make_client(api_key=None, auth=oauth)
    client.chat.completions.create(model="m", messages=HI)
    session = oauth.endpoint._transport.session
    sock = pooled_socket(type("C", (), {"session": session})(), server.token_url)
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


def test_proxied_pools_get_the_same_connections(make_client):
    adapter = make_client().session.get_adapter("https://api.example/v1")
    manager = adapter.proxy_manager_for("http://proxy.example:3128")
    assert manager.connection_pool_kw["socket_options"] == adapter.socket_options
    assert manager.pool_classes_by_scheme["https"].ConnectionCls.__name__ == (
        "BoundedHTTPSConnection")


@pytest.mark.parametrize("value, message", [
    (chatmini.TCPKeepAlive, "must be True, False or a TCPKeepAlive"),
    ("yes", "must be True, False or a TCPKeepAlive"),
])
def test_bad_keepalive_settings_fail_clearly(value, message):
    with pytest.raises(chatmini.InvalidRequestError, match=message):
        chatmini.Client(api_key="k", tcp_keepalive=value)


@pytest.mark.parametrize("options", [{"idle": 0}, {"interval": float("nan")}, {"count": True}])
def test_bad_keepalive_values_fail_clearly(options):
    with pytest.raises(chatmini.InvalidRequestError, match="TCPKeepAlive"):
        chatmini.TCPKeepAlive(**options)


def test_keepalive_and_a_session_of_your_own_disagree():
    import requests

    with pytest.raises(chatmini.InvalidRequestError, match="tcp_keepalive= and session="):
        chatmini.Client(api_key="k", session=requests.Session(), tcp_keepalive=False)


# -- closing -------------------------------------------------------------------------------------


def test_close_closes_the_oauth2_token_endpoint_connections(make_client, server):
    oauth = OAuth2ClientCredentials(server.token_url, server.tokens.client_id,
                                    server.tokens.client_secret)
    client = make_client(api_key=None, auth=oauth)
    client.chat.completions.create(model="m", messages=HI)
    assert server.tokens.calls == 1
    assert len(open_client_sockets(server.port)) == 2  # the API's and the token endpoint's
    client.close()
    assert open_client_sockets(server.port) == []
    server.tokens.enqueue(Reply(status=500))  # still usable: it reconnects (a shared plugin)
    other = make_client(api_key=None, auth=oauth)
    oauth.cache.invalidate(oauth.cache._entry[0])
    other.chat.completions.create(model="m", messages=HI)
    assert server.tokens.calls == 3
