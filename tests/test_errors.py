"""Every error path ends in a chatmini exception with a clear message, over real sockets."""

from __future__ import annotations

import socket

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY

STATUS_CLASSES = [
    (400, chatmini.BadRequestError),
    (401, chatmini.AuthenticationError),
    (403, chatmini.PermissionDeniedError),
    (404, chatmini.NotFoundError),
    (409, chatmini.ConflictError),
    (422, chatmini.UnprocessableEntityError),
    (429, chatmini.RateLimitError),
    (500, chatmini.InternalServerError),
    (503, chatmini.InternalServerError),
    (418, chatmini.APIStatusError),
]


@pytest.mark.parametrize("status, cls", STATUS_CLASSES)
def test_status_maps_to_error_class(make_client, server, status, cls):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=status, body={"error": {
        "message": f"boom {status}", "type": "t", "param": "p", "code": "c"}}))
    with pytest.raises(cls) as info:
        client.chat.completions.create(model="m", messages=HI)
    err = info.value
    assert isinstance(err, chatmini.APIStatusError) and isinstance(err, chatmini.ChatminiError)
    assert err.status_code == status
    assert f"boom {status}" in str(err) and str(status) in str(err)
    assert (err.code, err.param, err.type) == ("c", "p", "t")
    assert err.full_body["error"]["message"] == f"boom {status}"  # was .body before issue 14
    assert err.body["message"] == f"boom {status}"  # openai-python's .body: the inner error
    assert err.response.status_code == status
    assert err.request_id and err.request_id.startswith("req_")


def test_fastapi_detail_body(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=401, body={"detail": "Invalid API key"}))
    with pytest.raises(chatmini.AuthenticationError, match="Invalid API key"):
        client.chat.completions.create(model="m", messages=HI)


def test_fastapi_validation_detail_list(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=422, body={"detail": [{"loc": ["body"], "msg": "field required"}]}))
    with pytest.raises(chatmini.UnprocessableEntityError, match="field required"):
        client.chat.completions.create(model="m", messages=HI)


def test_plain_text_error_body_excerpt(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=500, body="Internal Server Error\n" + "x" * 5000))
    with pytest.raises(chatmini.InternalServerError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert "Internal Server Error" in str(info.value)
    assert len(str(info.value)) < 300


def test_empty_error_body(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=502, body=b""))
    with pytest.raises(chatmini.InternalServerError, match="HTTP 502"):
        client.chat.completions.create(model="m", messages=HI)


def test_html_page_with_200_is_validation_error(client, server):
    server.enqueue(Reply(body="<html><body>Gateway login</body></html>", content_type="text/html"))
    with pytest.raises(chatmini.APIResponseValidationError) as info:
        client.chat.completions.create(model="m", messages=HI)
    message = str(info.value)
    assert "200" in message and "text/html" in message and "Gateway login" in message
    assert info.value.status_code == 200


def test_json_that_is_not_an_object_is_validation_error(client, server):
    server.enqueue(Reply(body=[1, 2, 3]))
    with pytest.raises(chatmini.APIResponseValidationError, match="JSON object"):
        client.chat.completions.create(model="m", messages=HI)


def test_error_object_inside_200_raises(client, server):
    server.enqueue(Reply(body={"error": {"message": "quota gone", "code": "rate_limit_exceeded"}}))
    with pytest.raises(chatmini.RateLimitError, match="quota gone"):
        client.chat.completions.create(model="m", messages=HI)


def test_redirect_is_not_followed_and_key_not_sent_elsewhere(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=307, headers={"Location": "http://127.0.0.2:9/steal"}, body=b""))
    with pytest.raises(chatmini.APIStatusError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert info.value.status_code == 307
    assert len(server.requests) == 1


def test_refused_connection_is_api_connection_error():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = chatmini.Client(api_key=SECRET_KEY, base_url=f"http://127.0.0.1:{port}/v1",
                             retry=chatmini.RetryPolicy(1, backoff_factor=0.01))
    with pytest.raises(chatmini.APIConnectionError) as info:
        client.chat.completions.create(model="m", messages=HI)
    assert not isinstance(info.value, chatmini.APITimeoutError)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert SECRET_KEY not in str(info.value)


def test_read_timeout_is_api_timeout_error(make_client, server):
    client = make_client(max_retries=0, timeout=(2.0, 0.2))
    server.enqueue(Reply(delay=2.0))
    with pytest.raises(chatmini.APITimeoutError, match="timed out"):
        client.chat.completions.create(model="m", messages=HI)


def test_dropped_connection_is_api_connection_error(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(drop=True))
    with pytest.raises(chatmini.APIConnectionError):
        client.chat.completions.create(model="m", messages=HI)


def test_client_keeps_working_after_errors(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(drop=True), Reply(status=500), Reply(body="junk"))
    for _ in range(3):
        with pytest.raises(chatmini.ChatminiError):
            client.chat.completions.create(model="m", messages=HI)
    assert client.chat.completions.create(model="m", messages=HI).choices[0].message.content


def test_error_hierarchy_matches_openai_names():
    assert issubclass(chatmini.APITimeoutError, chatmini.APIConnectionError)
    assert issubclass(chatmini.IncompleteStreamError, chatmini.APIConnectionError)
    assert issubclass(chatmini.APIConnectionError, chatmini.APIError)
    assert issubclass(chatmini.RateLimitError, chatmini.APIStatusError)
    assert issubclass(chatmini.APIStatusError, chatmini.APIError)
    assert issubclass(chatmini.APIResponseValidationError, chatmini.APIError)
    assert issubclass(chatmini.APIError, chatmini.ChatminiError)


DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError


def test_deeply_nested_json_bodies_end_in_chatmini_errors(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(body=DEEP, content_type="application/json"))
    with pytest.raises(chatmini.APIResponseValidationError):
        client.chat.completions.create(model="m", messages=HI)
    server.enqueue(Reply(status=400, body=DEEP, content_type="application/json"))
    with pytest.raises(chatmini.BadRequestError):
        client.chat.completions.create(model="m", messages=HI)
    server.enqueue(Reply(raw_stream=b"data: " + DEEP + b"\n\n"))
    with pytest.raises(chatmini.APIResponseValidationError):
        list(client.chat.completions.create(model="m", messages=HI, stream=True))
    assert client.chat.completions.create(model="m", messages=HI).choices
