"""docs/observability.md stays true: every tagged example is there (test_doc_examples.py runs
them and checks their output), and its metric table names what the exporters really send."""

from __future__ import annotations

import re
from pathlib import Path

from .docsnippets import page_snippets

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
EXAMPLES = {s.name: s for s in page_snippets("docs/observability.md") if s.not_run is None}


def test_examples_are_found():
    assert set(EXAMPLES) >= {"timing", "stats", "slow-call-rules", "logging", "prometheus",
                             "statsd", "opentelemetry", "own-exporter"}


def test_metric_table_matches_the_exporters():
    from chatmini.plugins import prometheus, statsd

    names = set(re.findall(r"`(chatmini_\w+)`", TEXT))
    assert names >= {"chatmini_request_duration_seconds", "chatmini_time_to_first_token_seconds",
                     "chatmini_retries_total", "chatmini_tokens_total", "chatmini_errors_total"}
    source = Path(prometheus.__file__).read_text() + Path(statsd.__file__).read_text()
    for name in ("request.duration", "time_to_first_token", "retries", "tokens", "errors"):
        assert f'"{name}"' in source and f"`{name}`" in TEXT
    assert str(prometheus.DURATION_BUCKETS[-1]).rstrip("0").rstrip(".") in TEXT
