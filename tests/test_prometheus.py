"""The Prometheus exporter, scraped from prometheus-client's real HTTP exposition endpoint."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import prometheus_client
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

import chatmini
from chatmini.plugins.prometheus import DURATION_BUCKETS, PrometheusMetrics
from chatmini.testing import Reply

from .conftest import HI

MODEL = "gpt-4o-mini"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass  # no access log in the test output


@pytest.fixture
def registry() -> prometheus_client.CollectorRegistry:
    return prometheus_client.CollectorRegistry()


@pytest.fixture
def scrape(registry) -> Iterator:
    """Serve ``registry`` on a real port and return a function scraping it into samples."""
    httpd = make_server("127.0.0.1", 0, prometheus_client.make_wsgi_app(registry),
                        handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}/metrics"

    def samples() -> dict:
        text = requests.get(url, timeout=5).text
        return {family.name: family for family in text_string_to_metric_families(text)}

    yield samples
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def value(family, suffix, **labels):
    matches = [s.value for s in family.samples
               if s.name == family.name + suffix and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matches) == 1, (suffix, labels, family.samples)
    return matches[0]


def test_metrics_are_scraped_with_names_units_and_labels(make_client, server, registry, scrape):
    client = make_client(plugins=[PrometheusMetrics(registry=registry)], max_retries=1)
    server.enqueue(Reply(status=503))
    first = client.chat.completions.create(model=MODEL, messages=HI).usage  # one retry
    with client.chat.completions.create(model=MODEL, messages=HI, stream=True,
                                        stream_options={"include_usage": True}) as stream:
        usage = stream.get_final_completion().usage
    server.enqueue(Reply(status=400))
    with pytest.raises(chatmini.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=HI)
    client.get("/models/gpt-4o")

    families = scrape()
    duration = families["chatmini_request_duration_seconds"]
    assert duration.type == "histogram" and duration.unit in ("", "seconds")
    ok = {"model": MODEL, "endpoint": "/chat/completions", "status": "200"}
    assert value(duration, "_count", **ok) == 2
    assert value(duration, "_sum", **ok) > 0
    assert value(duration, "_bucket", le="300.0", **ok) == 2
    assert value(duration, "_count", model=MODEL, status="400") == 1
    assert value(duration, "_count", model="none", endpoint="/models/{id}") == 1
    les = {s.labels["le"] for s in duration.samples if s.name.endswith("_bucket")}
    assert {float(le) for le in les - {"+Inf"}} == set(DURATION_BUCKETS)

    ttft = families["chatmini_time_to_first_token_seconds"]
    assert ttft.type == "histogram" and value(ttft, "_count", model=MODEL) == 1

    retries = families["chatmini_retries"]
    assert retries.type == "counter"
    assert value(retries, "_total", model=MODEL, endpoint="/chat/completions") == 1

    tokens = families["chatmini_tokens"]
    assert value(tokens, "_total", model=MODEL, kind="completion") == (
        first.completion_tokens + usage.completion_tokens)
    assert value(tokens, "_total", model=MODEL, kind="prompt") == (
        first.prompt_tokens + usage.prompt_tokens)

    errors = families["chatmini_errors"]
    assert value(errors, "_total", model=MODEL, type="BadRequestError") == 1


def test_a_streamed_negative_or_huge_usage_counts_no_tokens(make_client, server, registry, scrape):
    """prometheus-client raises on a negative increment: such a count is no count."""
    client = make_client(plugins=[PrometheusMetrics(registry=registry)])
    usage = {"prompt_tokens": -5, "completion_tokens": 10**400}
    server.enqueue(Reply(content="hi", chunk_extras={"usage": usage}))
    with client.chat.completions.create(model=MODEL, messages=HI, stream=True) as stream:
        assert "".join(stream.text_deltas()) == "hi"
    families = scrape()
    assert not [s for s in families["chatmini_tokens"].samples if s.name.endswith("_total")]
    ok = {"model": MODEL, "endpoint": "/chat/completions", "status": "200"}
    assert value(families["chatmini_request_duration_seconds"], "_count", **ok) == 1


def test_default_registry_is_shared_by_clients(make_client):
    before = prometheus_client.REGISTRY.get_sample_value(
        "chatmini_request_duration_seconds_count",
        {"model": "default-reg", "endpoint": "/chat/completions", "status": "200"}) or 0
    for _ in range(2):  # two plugins on one registry: no "Duplicated timeseries" error
        client = make_client(plugins=[PrometheusMetrics()])
        client.chat.completions.create(model="default-reg", messages=HI)
    after = prometheus_client.REGISTRY.get_sample_value(
        "chatmini_request_duration_seconds_count",
        {"model": "default-reg", "endpoint": "/chat/completions", "status": "200"})
    assert after == before + 2


def test_connection_errors_have_no_status(make_client, server, registry):
    client = make_client(plugins=[PrometheusMetrics(registry=registry)], max_retries=0)
    server.enqueue(Reply(drop=True))
    with pytest.raises(chatmini.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=HI)
    assert registry.get_sample_value("chatmini_request_duration_seconds_count", {
        "model": MODEL, "endpoint": "/chat/completions", "status": "none"}) == 1
    assert registry.get_sample_value(
        "chatmini_errors_total", {"model": MODEL, "type": "APIConnectionError"}) == 1


def test_a_clear_error_without_prometheus_client(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImportError, match=r"pip install 'chatmini\[prometheus\]'"):
        PrometheusMetrics()


def test_import_chatmini_does_not_import_prometheus_client():
    code = ("import sys, chatmini; chatmini.Client(api_key='k'); "
            "assert 'prometheus_client' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
