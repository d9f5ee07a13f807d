"""``client.files`` over real sockets: streamed uploads (every source kind, retries, memory),
downloads into a spool (retried when cut), pagination, and hostile answers."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tracemalloc

import pytest

import chatmini
from chatmini.testing import Fault, FaultProxy, Reply

from .conftest import SECRET_KEY

MB = 1024 * 1024


def big_file(tmp_path, size):
    path = tmp_path / "big.jsonl"
    block = os.urandom(MB)
    with open(path, "wb") as out:
        for _ in range(size // MB):
            out.write(block)
    return path


def digest(data):
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("kind", ["path", "pathlike", "bytes", "file", "tuple"])
def test_every_kind_of_source_uploads_the_same_bytes(client, server, tmp_path, kind):
    data = b'{"a": 1}\n' * 1000 + bytes(range(256))
    path = tmp_path / "requests.jsonl"
    path.write_bytes(data)
    with open(path, "rb") as stream:
        source = {"path": str(path), "pathlike": path, "bytes": data, "file": stream,
                  "tuple": ("mine.jsonl", data, "application/jsonl")}[kind]
        uploaded = client.files.create(file=source, purpose="batch")
    assert uploaded.bytes == len(data) and uploaded.purpose == "batch"
    assert uploaded.filename == {"bytes": "upload", "tuple": "mine.jsonl"}.get(kind, path.name)
    assert server.files.read(uploaded.id) == data
    sent = server.requests[-1]
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert sent.json == {"purpose": "batch", "file": {"filename": uploaded.filename,
                                                      "bytes": len(data)}}


def test_a_50_mb_upload_never_holds_the_file_in_memory(client, server, tmp_path):
    path = big_file(tmp_path, 50 * MB)
    client.models.list()  # connection and lazy imports made before measuring
    tracemalloc.start()
    try:
        uploaded = client.files.create(file=path, purpose="batch")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert uploaded.bytes == 50 * MB
    assert peak < 5 * MB, f"peak {peak / MB:.1f} MB while uploading 50 MB"  # server included
    with open(path, "rb") as original, open(server.files.path(uploaded.id), "rb") as stored:
        assert digest(original.read()) == digest(stored.read())


@pytest.mark.parametrize("kind", ["path", "file"])
def test_a_connection_cut_mid_upload_resends_the_file_from_its_first_byte(
        server, make_client, tmp_path, kind):
    path = big_file(tmp_path, 4 * MB)
    with FaultProxy(server.url) as proxy, open(path, "rb") as stream:
        stream.seek(10)  # a file object is sent from where it stood, on every attempt
        client = make_client(base_url=proxy.base_url)
        proxy.enqueue(Fault("reset", after=MB + 123, in_request=True))
        uploaded = client.files.create(file=path if kind == "path" else stream, purpose="batch")
        assert proxy.fired == {f"reset@request+{MB + 123}": 1}
    if kind == "file":
        assert server.files.read(uploaded.id) == path.read_bytes()[10:]
        return
    assert len(server.files) == 1  # the cut upload was dropped by the server
    assert digest(server.files.read(uploaded.id)) == digest(path.read_bytes())
    assert uploaded.context["timing"].retries == 1


def test_a_source_that_cannot_be_read_twice_fails_clearly_instead_of_retrying(
        server, make_client):
    read_end, write_end = os.pipe()
    os.write(write_end, b"x" * 60_000)  # within the pipe's buffer
    os.close(write_end)
    with FaultProxy(server.url) as proxy, open(read_end, "rb", buffering=0) as pipe:
        client = make_client(base_url=proxy.base_url, max_retries=3)
        proxy.enqueue(Fault("reset", after=30_000, in_request=True))
        with pytest.raises(chatmini.APIConnectionError) as caught:
            client.files.create(file=pipe, purpose="batch")
    message = str(caught.value)
    assert "not retried" in message and "cannot be read twice" in message
    assert proxy.requests_seen == 1 and len(server.files) == 0


def test_a_pipe_uploads_chunked_when_nothing_fails(client, server):
    read_end, write_end = os.pipe()
    os.write(write_end, b"line\n" * 1000)
    os.close(write_end)
    with open(read_end, "rb", buffering=0) as pipe:
        uploaded = client.files.create(file=pipe, purpose="batch")
    assert server.requests[-1].headers["Transfer-Encoding"] == "chunked"
    assert server.files.read(uploaded.id) == b"line\n" * 1000


def test_bad_arguments_are_refused_before_anything_is_sent(client, server, tmp_path):
    with pytest.raises(chatmini.InvalidRequestError, match="text mode"):
        client.files.create(file=io.StringIO("x"), purpose="batch")
    with pytest.raises(chatmini.InvalidRequestError, match="Cannot upload"):
        client.files.create(file=tmp_path / "missing.jsonl", purpose="batch")
    with pytest.raises(chatmini.InvalidRequestError, match="purpose"):
        client.files.create(file=b"x", purpose="")
    with pytest.raises(chatmini.InvalidRequestError, match="not a regular file"):
        client.files.create(file=tmp_path, purpose="batch")
    with pytest.raises(chatmini.InvalidRequestError, match="one line"):
        client.files.create(file=b"x", purpose="batch\r\n--x")
    with pytest.raises(chatmini.InvalidRequestError, match="file_id"):
        client.files.retrieve("")
    assert server.requests == []


def test_the_server_refuses_what_openai_refuses(client):
    with pytest.raises(chatmini.BadRequestError, match="purpose"):
        client.files.create(file=b"x", purpose="nonsense")
    with pytest.raises(chatmini.NotFoundError):
        client.files.retrieve("file-missing")
    with pytest.raises(chatmini.NotFoundError):
        client.files.content("file-missing")


def test_an_id_is_one_path_segment(client, server):
    with pytest.raises(chatmini.NotFoundError):
        client.files.retrieve("../batches")
    assert server.requests[-1].path == "/v1/files/..%2Fbatches"


def test_list_pages_lazily_and_follows_after(client, server):
    made = [server.files.add(f"{i}\n".encode(), f"f{i}.jsonl")["id"] for i in range(23)]
    page = client.files.list(limit=5, order="asc")
    assert [f.id for f in page.data] == made[:5] and page.has_more is True
    assert len(server.requests) == 1  # nothing more fetched yet
    assert [f.id for f in page] == made
    pages = server.requests[1:]
    assert len(pages) == 4 and f"after={made[4]}&" in pages[0].path
    newest = client.files.list(limit=100)
    assert [f.id for f in newest] == made[::-1] and not newest.has_next_page()


def test_pages_by_hand(client, server):
    for i in range(3):
        server.files.add(b"x", f"f{i}")
    page = client.files.list(limit=2)
    assert page.has_next_page()
    last = page.get_next_page()
    assert len(last.data) == 1 and not last.has_next_page()
    with pytest.raises(RuntimeError, match="has_next_page"):
        last.get_next_page()
    assert len(list(page.iter_pages())) == 2


def test_a_list_that_never_advances_is_an_error_not_a_hang(client, server):
    looping = {"object": "list", "data": [{"id": "file-1"}], "has_more": True}
    server.enqueue(Reply(body=looping, path="/files"), Reply(body=looping, path="/files"))
    with pytest.raises(chatmini.APIError, match="does not advance"):
        list(client.files.list())


def test_a_list_without_data_is_a_validation_error(client, server):
    server.enqueue(Reply(body={"object": "list", "items": []}, path="/files"))
    with pytest.raises(chatmini.APIResponseValidationError, match="'data' list"):
        client.files.list()


def test_delete_and_retrieve(client, server):
    made = server.files.add(b"x", "a.jsonl")
    assert client.files.retrieve(made["id"]).filename == "a.jsonl"
    deleted = client.files.delete(made["id"])
    assert deleted.deleted is True and deleted.id == made["id"] and len(server.files) == 0


def test_content_is_spooled_and_read_by_line_or_copied(client, server, tmp_path):
    text = "".join(f'{{"n": {i}, "s": "a\u2028b"}}\r\n' for i in range(50_000))
    made = server.files.add(text.encode(), "out.jsonl", "batch_output")
    with client.files.content(made["id"]) as content:
        assert content.size == len(text.encode())
        lines = list(content.iter_lines())
        assert len(lines) == 50_000 and lines[7] == '{"n": 7, "s": "a\u2028b"}'
        content.write_to_file(tmp_path / "copy.jsonl")
        assert content.text == text and content._request_id.startswith("req_")
    assert (tmp_path / "copy.jsonl").read_bytes() == text.encode()
    with pytest.raises(ValueError, match="closed"):
        content.read()


def test_a_download_cut_halfway_is_downloaded_again(server, make_client):
    data = os.urandom(3 * MB)
    made = server.files.add(data, "out.jsonl")
    with FaultProxy(server.url) as proxy:
        client = make_client(base_url=proxy.base_url)
        proxy.enqueue(Fault("reset", after=MB, after_headers=True))
        with client.files.content(made["id"]) as content:
            assert content.read() == data and content.size == len(data)
            assert content.context["timing"].retries == 1


def test_a_download_larger_than_the_limit_fails(server, make_client):
    made = server.files.add(b"x" * 5000, "out.jsonl")
    client = make_client(max_response_bytes=4096)
    with pytest.raises(chatmini.APIResponseValidationError, match="max_response_bytes"):
        client.files.content(made["id"])


def test_logs_name_an_upload_but_never_show_it(server, make_client, caplog):
    from chatmini.plugins.call_log import CallLog

    client = make_client(plugins=[CallLog(bodies=True)], disabled_plugins=["logging"])
    with caplog.at_level(logging.DEBUG, logger="chatmini"):
        uploaded = client.files.create(file=("s.jsonl", b"TOP-SECRET-CONTENT\n"), purpose="batch")
        client.files.content(uploaded.id).close()
    text = caplog.text
    assert "streamed (file 's.jsonl', multipart/form-data" in text
    assert "TOP-SECRET-CONTENT" not in text and SECRET_KEY not in text


def test_a_plugin_answering_a_download_in_place_of_the_transport(server, make_client):
    import requests

    class Cache:
        @chatmini.hookimpl
        def chatmini_send(self, request):
            if not request.url.endswith("/content"):
                return None
            response = requests.Response()
            response.status_code, response._content = 200, b"cached\n"
            return response

    client = make_client(plugins=[Cache()])
    with client.files.content("file-anything") as content:
        assert list(content.iter_lines()) == ["cached"]
    assert server.requests == []


def test_compression_and_msgpack_leave_uploads_alone(server, make_client):
    client = make_client(plugins=[chatmini.Compression(min_size=10), chatmini.MessagePack()])
    data = b'{"a": 1}\n' * 500
    uploaded = client.files.create(file=data, purpose="batch")
    assert "Content-Encoding" not in server.requests[-1].headers
    assert server.files.read(uploaded.id) == data
    assert client.files.retrieve(uploaded.id).bytes == len(data)


def test_files_and_batches_follow_with_options_and_raw_responses(client, server):
    other = client.with_options(max_retries=0)
    assert other.files._client is other and other.batches._client is other
    assert client.files._client is client
    created = client.files.create(file=b'{"a": 1}\n', purpose="batch")
    raw = client.files.with_raw_response.retrieve(created.id)
    assert raw.status_code == 200 and raw.parse().id == created.id
