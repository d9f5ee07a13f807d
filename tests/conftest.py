"""Shared fixtures: a real embedded server per test, and clients pointed at it."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

import chatmini
from chatmini.testing import Server
from chatmini.testing.replies import FRAMINGS, PER_EVENT

SECRET_KEY = "sk-test-UNIQUE-4f9c2e7a1b"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's real key, base URL or plugins, nor writes conversations
    into their data directory (``chatmini chat`` keeps them there)."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
                 "CHATMINI_DISABLE_PLUGINS", "CHATMINI_TRACE_PLUGINS", "CHATMINI_MODEL",
                 "CHATMINI_OAUTH_TOKEN_URL", "CHATMINI_OAUTH_CLIENT_ID",
                 "CHATMINI_OAUTH_CLIENT_SECRET", "CHATMINI_OAUTH_SCOPE", "AZURE_OPENAI_ENDPOINT",
                 "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATMINI_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``framings`` run once per stream framing of the server (see ``framing``)."""
    if "framing" in metafunc.fixturenames and metafunc.definition.get_closest_marker("framings"):
        metafunc.parametrize("framing", FRAMINGS, indirect=True)


@pytest.fixture
def framing(request: pytest.FixtureRequest) -> str:
    """How the server writes streams: each event its own chunk (the default), or coalesced."""
    return str(getattr(request, "param", PER_EVENT))


@pytest.fixture
def server(framing: str) -> Iterator[Server]:
    with Server(framing=framing) as srv:
        yield srv


@pytest.fixture
def make_client(server: Server) -> Iterator[Callable[..., chatmini.Client]]:
    """Build clients against the server with fast retries; all are closed after the test."""
    made: list[chatmini.Client] = []

    def make(**kwargs: Any) -> chatmini.Client:
        kwargs.setdefault("api_key", SECRET_KEY)
        kwargs.setdefault("base_url", server.base_url)
        kwargs.setdefault("timeout", (2.0, 5.0))
        if "retry" not in kwargs:
            kwargs["retry"] = chatmini.RetryPolicy(
                kwargs.pop("max_retries", 2), backoff_factor=0.01, backoff_jitter=0.0
            )
        client = chatmini.Client(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., chatmini.Client]) -> chatmini.Client:
    return make_client()
