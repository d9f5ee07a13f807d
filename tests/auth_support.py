"""Helpers shared by the auth tests: an OAuth2 plugin pointed at the test server's endpoint."""

from __future__ import annotations

from typing import Any

import chatmini
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.testing import Server

CLIENT_SECRET = "cs-UNIQUE-8e1f0c2d5a"
HI = [{"role": "user", "content": "hi"}]


def oauth_for(server: Server, **options: Any) -> OAuth2ClientCredentials:
    """OAuth2 client credentials for ``server.tokens`` with fast retries and short timeouts."""
    server.tokens.configure(client_secret=CLIENT_SECRET)
    options.setdefault("retry", chatmini.RetryPolicy(2, backoff_factor=0.01, backoff_jitter=0.0))
    options.setdefault("timeout", (2.0, 5.0))
    return OAuth2ClientCredentials(
        server.token_url, server.tokens.client_id, CLIENT_SECRET, **options
    )


def create(client: chatmini.Client, **options: Any) -> Any:
    """One chat completion."""
    return client.chat.completions.create(model="m", messages=HI, **options)


def bearer_tokens(server: Server) -> list[str]:
    """The bearer token each API request carried ("" when none)."""
    return [(r.headers.get("Authorization") or "").removeprefix("Bearer ") for r in server.requests]
