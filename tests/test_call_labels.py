"""Call labels (``request.context["labels"]``): a plugin written from the docs alone labels its
calls, and timing, the call log, StatsD and Prometheus carry the labels."""

from __future__ import annotations

import logging
import socket

import prometheus_client
import pytest

import chatmini
from chatmini.plugins.prometheus import PrometheusMetrics
from chatmini.plugins.statsd import StatsdMetrics
from chatmini.request import LABELS

from .conftest import HI


class Region:
    """Labels every call with the region it was sent to."""

    @chatmini.hookimpl
    def chatmini_prepare_request(self, request):
        request.context.setdefault(LABELS, {})["region"] = "eu"


def test_timing_carries_the_labels(make_client):
    client = make_client(plugins=[Region()])
    reply = client.chat.completions.create(model="m", messages=HI)
    assert dict(reply.timing.labels) == {"region": "eu"}
    assert reply.timing.to_dict()["labels"] == {"region": "eu"}
    assert dict(make_client().chat.completions.create(model="m", messages=HI).timing.labels) == {}


def test_the_call_log_line_ends_with_the_labels(make_client, caplog):
    caplog.set_level(logging.INFO, logger="chatmini")
    make_client(plugins=[Region()]).chat.completions.create(model="m", messages=HI)
    (record,) = [r for r in caplog.records if r.name == "chatmini"]
    assert " region=eu request_id=" in record.getMessage() and record.labels == {"region": "eu"}


def test_statsd_tags_and_prometheus_labels(make_client):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(5)
        registry = prometheus_client.CollectorRegistry()
        client = make_client(plugins=[
            Region(), StatsdMetrics(port=daemon.getsockname()[1], tags=True),
            PrometheusMetrics(registry=registry, labels=["region", "cache"]),
        ])
        client.chat.completions.create(model="m", messages=HI)
        lines = daemon.recv(65536).decode().split("\n")
    tagged = [line for line in lines if line.startswith("chatmini.request")]
    assert len(tagged) == 2 and all("region:eu" in line.split("|#")[1].split(",") for line in tagged)
    assert registry.get_sample_value("chatmini_request_duration_seconds_count", {
        "model": "m", "endpoint": "/chat/completions", "status": "200", "region": "eu",
        "cache": "none"}) == 1
    with pytest.raises(chatmini.InvalidRequestError, match=r"labels=\['region'\].*disagree"):
        PrometheusMetrics(registry=registry, labels=["region"])
