"""The Client a command talks through, built from its options and the environment, with
warnings about the settings (an unencrypted key) shown as one line each."""

from __future__ import annotations

import os
import warnings
from typing import Optional

from ..client import Client
from ..errors import InsecureTransportWarning
from ..timeouts import DEFAULT_TIMEOUT
from .report import report


def open_client(base_url: Optional[str], timeout: Optional[float]) -> Client:
    """A Client for ``--base-url`` and ``--timeout`` (OPENAI_* from the environment)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InsecureTransportWarning)
        client = Client(base_url=base_url, timeout=DEFAULT_TIMEOUT if timeout is None else timeout)
    for warning in caught:
        report(str(warning.message), kind="warning")
    return client


CREDENTIAL_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "CHATMINI_OAUTH_CLIENT_SECRET")


def credentials() -> list[str]:
    """The credentials in the environment, to keep out of messages and files."""
    return [value for value in map(os.environ.get, CREDENTIAL_VARIABLES) if value]
