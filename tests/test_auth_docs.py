"""docs/auth.md stays true: every auth mode has an example (test_doc_examples.py runs them)."""

from __future__ import annotations

from .docsnippets import page_snippets

EXAMPLES = {s.name: s for s in page_snippets("docs/auth.md") if s.name.startswith("auth-")}
MODES = ("auth-api-key", "auth-oauth2", "auth-oauth2-env", "auth-oauth2-refresh",
         "auth-oauth2-errors", "auth-token-provider", "auth-azure", "auth-api-version",
         "auth-redirect")


def test_every_auth_mode_has_an_example_that_runs():
    assert sorted(EXAMPLES) == sorted(MODES)
    assert all(EXAMPLES[name].not_run is None for name in MODES)
