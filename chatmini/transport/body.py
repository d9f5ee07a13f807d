"""Reading a non-streamed body as it arrives, bounded in size and in time.

``response.content`` would read until the body ends, however long a trickling server takes
and however large a (decompressed) body grows. Here the body is read with ``read1`` (what the
socket has), the decoded size is checked against ``max_response_bytes`` and the time spent
against the read timeout, and urllib3's failures become requests' exceptions, as
``iter_content`` would raise them, for the transport to translate. A 2xx body of a call with a
``sink`` (a download) is written there instead, and ``response.content`` stays empty.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, NoReturn, Optional

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from ..errors import APIResponseValidationError, APITimeoutError
from ..redaction import redact_url
from ..timeouts import read_part

if TYPE_CHECKING:
    from ..request import Request

READ_SIZE = 65536


def read_body(response: requests.Response, request: Request, limit: Optional[int]) -> None:
    """Read the whole body into ``response.content``, or raise a chatmini/requests error.

    The read timeout bounds the whole body (counted once the headers are in), not only each
    socket read, so a server sending one byte at a time cannot hold the call open for hours.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    if read1 is None:  # not urllib3's response (a custom adapter): requests reads it
        if request.sink is not None and response.status_code < 300:
            request.sink.start()
            request.sink.write(response.content)
        response.content  # noqa: B018
        return
    declared = getattr(raw, "length_remaining", None)
    if limit is not None and declared is not None and declared > limit:
        _too_large(response, request, limit, f"Content-Length is {declared:,}")
    budget = read_part(request.timeout)
    deadline = perf_counter() + budget if budget is not None else None
    parts: list[bytes] = []
    sink = request.sink if response.status_code < 300 else None
    keep = parts.append if sink is None else sink.write
    if sink is not None:
        sink.start()
    size = 0
    # With Content-Length and no coding, the read that brings the last byte ends the body (and
    # gives the connection back): no further read1 just to learn that it ended.
    sized = declared is not None and "content-encoding" not in response.headers
    while not (sized and raw.length_remaining == 0 and parts):
        try:
            data = read1(READ_SIZE, decode_content=True)
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        if not data:
            break
        keep(data)
        size += len(data)
        if limit is not None and size > limit:
            _too_large(response, request, limit, f"more than {limit:,} bytes arrived")
        if deadline is not None and perf_counter() > deadline:
            response.close()
            raise APITimeoutError(
                f"Request timed out (the body took longer than the {budget:g} s read timeout) "
                f"on {request.method} {redact_url(request.url)}.",
                request=request,
            )
    response._content = parts[0] if len(parts) == 1 else b"".join(parts)  # b"" with a sink
    response._content_consumed = True


def _too_large(
    response: requests.Response, request: Request, limit: int, why: str
) -> NoReturn:
    response.close()  # the rest is never read: the connection is dropped, not drained
    raise APIResponseValidationError(
        f"Response body from {request.endpoint} (HTTP {response.status_code}) is larger than "
        f"max_response_bytes={limit:,} ({why}); raise the limit on the Client to accept it.",
        response=response, request=request,
    )
