"""The module-level default client: chatmini.api_key & co., chatmini.chat.completions.create,
built lazily from the environment and rebuilt when a setting changes."""

from __future__ import annotations

import subprocess
import sys
from typing import Iterator

import pytest

import chatmini
from chatmini import module_client

from .conftest import HI, SECRET_KEY

SETTINGS = module_client.SETTINGS


@pytest.fixture(autouse=True)
def fresh_module_client() -> Iterator[None]:
    """Each test starts without a module client and with every setting None."""
    saved = {name: getattr(chatmini, name) for name in SETTINGS}
    module_client._client = None
    yield
    if module_client._client is not None:
        module_client._client.close()
    module_client._client = None
    for name, value in saved.items():
        setattr(chatmini, name, value)


def test_settings_on_the_package_drive_the_module_client(server):
    chatmini.api_key = SECRET_KEY
    chatmini.base_url = server.base_url
    chatmini.default_headers = {"X-From": "module"}
    reply = chatmini.chat.completions.create(model="m", messages=HI)
    assert reply.choices[0].message.content == "echo: hi"
    sent = server.requests[0]
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.headers["X-From"] == "module"
    assert len(chatmini.embeddings.create(model="e", input="x").data) == 1
    assert chatmini.models.retrieve("gpt-4o").id == "gpt-4o"
    assert chatmini.moderations.create(input="x").results
    assert chatmini.completions.create(model="m", prompt="p").choices[0].text == "echo: p"
    assert chatmini.with_raw_response.models.list().status_code == 200
    assert chatmini.with_options(max_retries=0).max_retries == 0


def test_a_setting_changed_after_the_first_call_counts(server):
    chatmini.base_url = server.base_url
    chatmini.api_key = "sk-first-12345"
    chatmini.models.list()
    first = module_client._client
    chatmini.models.list()
    assert module_client._client is first  # unchanged settings: the same client and pool
    chatmini.api_key = "sk-second-12345"
    chatmini.models.list()
    assert [r.headers["Authorization"] for r in server.requests] == [
        "Bearer sk-first-12345", "Bearer sk-first-12345", "Bearer sk-second-12345"]
    first.close()


def test_the_environment_fills_what_is_not_set(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    assert chatmini.chat.completions.create(model="m", messages=HI).choices
    assert chatmini.ask("again") == "echo: again"  # the helpers share the module client
    assert server.connections_opened == 1


def test_import_builds_no_client_and_the_names_are_listed():
    code = ("import chatmini, chatmini.module_client as m; "
            "print(m._client is None, chatmini.api_key, 'chat' in dir(chatmini))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["True", "None", "True"]
