"""The built-in ``transport`` plugin: each attempt straight to the Session's mounted adapter.

Attempts go to the adapter with a cheaply built PreparedRequest (no per-call environment
merge). Redirects are not followed: an API that redirects a POST elsewhere is answered with
the 3xx as an error, and the key never travels. A non-stream body is read here, bounded.
"""

from __future__ import annotations

from datetime import timedelta
from time import perf_counter
from typing import TYPE_CHECKING, Optional

import requests

from ..hookspecs import hookimpl
from .adapter import case_insensitive
from .body import read_body
from .failures import translate_exception
from .session import Verify, environment_settings

if TYPE_CHECKING:
    from ..client import Client
    from ..request import Request


class HTTPTransport:
    """The built-in ``transport`` plugin: sends each attempt through the Session's adapter."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        verify: Optional[Verify] = None,
        max_response_bytes: Optional[int] = None,
    ) -> None:
        self.session = session
        self.proxies, self.verify, self.cert = environment_settings(session, base_url, verify)
        self.max_response_bytes = max_response_bytes

    @hookimpl(trylast=True)
    def chatmini_send(self, request: Request, client: Client) -> requests.Response:
        return self.send(request)

    def send(self, request: Request) -> requests.Response:
        """Send one attempt; a non-stream body is read here, so its failures are the attempt's."""
        body = request.body
        headers = request.headers
        if body is not None:  # the last of any spelling of the name wins in case_insensitive
            headers = {**headers, "Content-Length": str(len(body))}
        prepared = requests.PreparedRequest.__new__(requests.PreparedRequest)
        prepared.method, prepared.url, prepared.body = request.method, request.url, body
        prepared.headers = case_insensitive(headers)
        prepared._cookies, prepared.hooks, prepared._body_position = None, {"response": []}, None
        try:
            adapter = self.session.get_adapter(request.url)
            start = perf_counter()
            response = adapter.send(
                prepared,
                stream=request.stream,
                timeout=request.timeout,
                # verify means nothing without TLS; a CA path would cost a stat() every call
                verify=self.verify if request.url[:6].lower() == "https:" else True,
                cert=self.cert,
                proxies=self.proxies,
            )
            response.elapsed = timedelta(seconds=perf_counter() - start)  # as Session.send does
            if not request.stream:  # read inside the error translation, bounded
                read_body(response, request, self.max_response_bytes)
        except (requests.exceptions.RequestException, OSError) as exc:  # OSError: a CA path
            raise translate_exception(exc, request) from exc
        return response
