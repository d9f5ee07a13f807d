"""A response head (status line and header fields) read in one go, when it is a plain one.

http.client parses header fields with the email package's feed parser: about 12 µs for an API
answer's handful of fields, more than all the rest of reading the answer, on every call and
every stream. A head that has arrived whole (one recv nearly always brings it) and is plain
(``HTTP/1.x``, a final status, one ``name: value`` field per CRLF-ended line, at most 99) is
split here into the same HTTPMessage, and the response's fields set as ``begin()`` sets them;
anything else (1xx answers, folded lines, stray CR or LF, odd names) is left to http.client.
A property test checks the results against http.client's on arbitrary heads.
"""

from __future__ import annotations

import http.client
import re
from typing import Optional

MAX_LINES = 100  # http.client's limit on a head's lines after the status line, the blank one
# included: more is its error to raise
_STATUS = re.compile(rb"HTTP/1\.([0-9]) ([2-9][0-9][0-9])(?: ([\t -~]*))?")
_NAME = re.compile(rb"[!-9;-~]+")  # what the feed parser takes for a field name


def read_head(response: http.client.HTTPResponse) -> bool:
    """Read a plain head that is already in ``response.fp``'s buffer, as ``begin()`` would;
    False (nothing read) when it is not there whole or not plain."""
    fp = response.fp
    data: bytes = fp.peek()  # what has arrived (one recv when nothing has)
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end]
    crlfs = head.count(b"\r\n")
    if head.count(b"\r") != crlfs or head.count(b"\n") != crlfs or crlfs >= MAX_LINES:
        return False  # a lone CR or LF splits lines differently in http.client
    lines = head.split(b"\r\n")
    status = _STATUS.fullmatch(lines[0])
    fields = _fields(lines)
    if status is None or fields is None:
        return False
    fp.read(end + 4)  # from the buffer: no recv
    minor, code, reason = status.groups()
    message = http.client.HTTPMessage()
    message._headers = fields  # type: ignore[attr-defined]  # what the feed parser fills
    message._payload = ""  # type: ignore[attr-defined]
    _begin(response, 10 if minor == b"0" else 11, int(code), (reason or b"").decode().strip(),
           message)
    return True


def _fields(lines: list[bytes]) -> Optional[list[tuple[str, str]]]:
    """(name, value) per field line, as the feed parser makes them; None for a line that is
    not one plain field."""
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or _NAME.fullmatch(name) is None:
            return None
        fields.append((name.decode("ascii"), value.decode("iso-8859-1").lstrip(" \t")))
    return fields


def _begin(response: http.client.HTTPResponse, version: int, status: int, reason: str,
           message: http.client.HTTPMessage) -> None:
    """What ``HTTPResponse.begin()`` sets once it has the status line and the fields."""
    response.code = response.status = status  # type: ignore[attr-defined]
    response.reason, response.version = reason, version
    response.headers = response.msg = message
    coding = message.get("transfer-encoding")
    response.chunked = bool(coding and coding.lower() == "chunked")
    if response.chunked:
        response.chunk_left = None
    response.will_close = response._check_close()  # type: ignore[attr-defined]
    response.length = None
    length = message.get("content-length")
    if length and not response.chunked:
        try:
            response.length = int(length)
        except ValueError:
            response.length = None
        else:
            if response.length < 0:
                response.length = None
    if status in (204, 304) or response._method == "HEAD":  # type: ignore[attr-defined]
        response.length = 0
    if not response.will_close and not response.chunked and response.length is None:
        response.will_close = True
