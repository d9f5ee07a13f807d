"""The built-in ``transport`` plugin: each attempt straight to the Session's mounted adapter.

Attempts go to the adapter with a cheaply built PreparedRequest (no per-call environment
merge). Redirects are not followed: an API that redirects a POST elsewhere is answered with
the 3xx as an error, and the key never travels. A non-stream body is read here, bounded.
An upload (``StreamedBody``) is streamed from its first byte on every attempt; one that cannot
be read twice ends the call after its first failed attempt, with a message that says so.
"""

from __future__ import annotations

from datetime import timedelta
from time import monotonic, perf_counter
from typing import TYPE_CHECKING, Any, Optional

import requests

from ..errors import APIConnectionError, APITimeoutError
from ..hookspecs import hookimpl
from ..redaction import redact_url
from ..timeouts import Timeout, check_timeout, total_passed
from ..uploads import StreamedBody
from .adapter import case_insensitive
from .body import read_body
from .connection import limit_reads
from .failures import translate_exception
from .session import Verify, environment_settings

if TYPE_CHECKING:
    from ..client import Client
    from ..errors import ChatminiError
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

    @hookimpl(trylast=True)
    def chatmini_retry_decision(self, request: Request, error: ChatminiError) -> Optional[str]:
        body = request.body
        if isinstance(body, StreamedBody) and not body.can_resend:
            return "raise"  # its bytes are gone: no attempt could send the same body again
        return None

    def send(self, request: Request) -> requests.Response:
        """Send one attempt; a non-stream body is read here, so its failures are the attempt's."""
        body: Any = request.body
        headers = request.headers
        if isinstance(body, StreamedBody):
            if body.length is not None:  # else requests sends it chunked
                headers = {**headers, "Content-Length": str(body.length)}
            body = body.chunks()
        elif body is not None:  # the last of any spelling of the name wins in case_insensitive
            headers = {**headers, "Content-Length": str(len(body))}
        prepared = requests.PreparedRequest.__new__(requests.PreparedRequest)
        prepared.method, prepared.url, prepared.body = request.method, request.url, body
        prepared.headers = case_insensitive(headers)
        prepared._cookies, prepared.hooks, prepared._body_position = None, {"response": []}, None
        timeout = attempt_timeout(request)
        try:
            adapter = self.session.get_adapter(request.url)
            start = perf_counter()
            response = adapter.send(
                prepared,
                stream=request.stream,
                timeout=timeout,
                # verify means nothing without TLS (but a proxy's); a CA path costs a stat()
                verify=self.verify if self.proxies or request.url[:6].lower() == "https:"
                else True,
                cert=self.cert,
                proxies=self.proxies,
            )
            response.elapsed = timedelta(seconds=perf_counter() - start)  # as Session.send does
            bound_body(response, request)
            if not request.stream:  # read inside the error translation, bounded
                read_body(response, request, self.max_response_bytes)
        except (requests.exceptions.RequestException, OSError) as exc:  # OSError: a CA path
            raise _final_upload(translate_exception(exc, request), request) from exc
        finally:
            if hasattr(body, "close"):
                body.close()  # an upload's file is closed however the send ended
        return response


def _final_upload(error: APIConnectionError, request: Request) -> APIConnectionError:
    """The error, saying so when the upload it cut cannot be sent again (no retry follows)."""
    body = request.body
    if not isinstance(body, StreamedBody) or body.can_resend:
        return error
    return type(error)(
        f"{error.message} The upload ({body.describe()}) is not retried: its source was read "
        "once and cannot be read twice; pass a path, bytes or a seekable file to allow retries.",
        request=request,
    )


def limits(request: Request) -> Timeout:
    """The request's timeouts as a Timeout (None: no limit at all)."""
    timeout = request.timeout
    if isinstance(timeout, Timeout):
        return timeout
    return NO_LIMIT if timeout is None else check_timeout(timeout)


NO_LIMIT = Timeout(connect=None, read=None)


def attempt_timeout(request: Request) -> tuple[Optional[float], Optional[float]]:
    """(connect, read) for one attempt: the request's, cut to what is left of the call's
    total deadline; an APITimeoutError when nothing is left."""
    timeout = limits(request)
    connect, read = timeout.connect, timeout.read
    deadline = request.deadline
    if deadline is None:
        return connect, read
    left = deadline - monotonic()
    if left <= 0:
        raise APITimeoutError(
            f"Request timed out ({total_passed(timeout, deadline)} before attempt "
            f"{request.attempt}) on {request.method} {redact_url(request.url)}.",
            request=request,
        )
    return (left if connect is None else min(connect, left),
            left if read is None else min(read, left))


def bound_body(response: requests.Response, request: Request) -> None:
    """Bound every read of the body by a deadline: a plain body's read timeout (counted from
    now) and the call's total, a stream's total; each recv waits at most the time left."""
    timeout = limits(request)
    deadline, total = request.deadline, timeout.total
    reason, value = ("the {:g} s total deadline passed", total) if total else (
        "the total deadline passed", 0.0)
    read = timeout.read
    if not request.stream and read is not None:
        body_end = monotonic() + read
        if deadline is None or body_end < deadline:
            deadline = body_end
            reason, value = "the body took longer than the {:g} s read timeout", read
    if deadline is not None:
        limit_reads(response.raw, deadline, reason, value)
