"""Unit tests of request building with `responses` (no sockets): URL, headers, exact body bytes."""

from __future__ import annotations

import json

import responses

import chatmini

BASE = "https://api.example.com/v1"
COMPLETION = {"id": "c", "object": "chat.completion",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}


@responses.activate
def test_chat_request_is_built_exactly():
    responses.post(f"{BASE}/chat/completions", json=COMPLETION)
    client = chatmini.Client(api_key="sk-build", base_url=BASE, organization="org-9",
                             project="proj-9", default_headers={"X-App": "t"})
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "é"}],
                                   temperature=0)
    sent = responses.calls[0].request
    assert sent.method == "POST" and sent.url == f"{BASE}/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-build"
    assert sent.headers["OpenAI-Organization"] == "org-9"
    assert sent.headers["OpenAI-Project"] == "proj-9"
    assert sent.headers["X-App"] == "t"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["User-Agent"] == f"chatmini/{chatmini.__version__}"
    assert sent.headers["Content-Length"] == str(len(sent.body))
    # compact separators, UTF-8 kept as is, keys in call order
    assert sent.body == '{"model":"m","messages":[{"role":"user","content":"é"}],"temperature":0}'.encode()


@responses.activate
def test_stream_request_asks_for_an_event_stream():
    responses.post(f"{BASE}/chat/completions", body=b"data: [DONE]\n\n",
                   content_type="text/event-stream")
    client = chatmini.Client(api_key="k", base_url=BASE)
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}],
                                            stream=True)
    list(stream)
    sent = responses.calls[0].request
    assert sent.headers["Accept"] == "text/event-stream"
    assert json.loads(sent.body)["stream"] is True


@responses.activate
def test_models_list_is_a_get_without_body():
    responses.get(f"{BASE}/models", json={"object": "list", "data": []})
    chatmini.Client(api_key="k", base_url=BASE).models.list()
    sent = responses.calls[0].request
    assert sent.method == "GET" and sent.body is None
