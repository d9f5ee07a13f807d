"""What a credential may be: checked once, before it reaches a header.

A key read from a file keeps its trailing newline, a ``.env`` written on Windows ends lines in
CRLF, a key pasted from a document may carry a curly quote. Sent as they are, the HTTP library
raises an error whose message is the whole header, key included. Surrounding whitespace is
stripped (as users expect); anything else that cannot be in a credential is an error naming the
problem and where it is, never the value.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from .errors import ChatminiError, InvalidRequestError, excerpt

_NOT_VISIBLE_ASCII = re.compile(r"[^\x21-\x7e]")
_NOT_HEADER_TEXT = re.compile(r"[^\x20-\x7e]")  # a whole header value may hold spaces
# What any header value may hold as HTTP libraries send it: Latin-1 text, no control character
# but tab (a CR or LF would end the header and start another: header injection).
_NOT_LATIN1_TEXT = re.compile(r"[^\t\x20-\x7e\x80-\xff]")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110 token)


def credential_problem(value: str, spaces: bool = False) -> Optional[str]:
    """What makes ``value`` unfit to send as a credential, or None. Credentials are visible
    ASCII; a whole header value (``Bearer <token>``) may also hold spaces (``spaces=True``)."""
    return _problem((_NOT_HEADER_TEXT if spaces else _NOT_VISIBLE_ASCII).search(value), value)


def header_problem(name: object, value: object) -> Optional[str]:
    """What makes ``name: value`` unfit to send as an HTTP header, or None: the name must be a
    token, the value text (a string or bytes) in Latin-1 without a line break or any control
    character but tab. Never quotes the value (it may be a credential)."""
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        return "has a name that is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)"
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    return _problem(_NOT_LATIN1_TEXT.search(value), value, "Latin-1")


def header_name(name: object, what: str) -> str:
    """``name`` when it is a valid HTTP header name, else an InvalidRequestError naming the
    argument ``what``: checked where the name is given, not when the first call fails."""
    problem = header_problem(name, "")
    if problem is not None:
        shown = repr(name) if isinstance(name, str) else type(name).__name__
        raise InvalidRequestError(f"{what}={excerpt(shown, 60)} {problem}")
    return name  # type: ignore[return-value]  # header_problem checked it is a str


def _problem(found: Optional[re.Match[str]], value: str, charset: str = "ASCII") -> Optional[str]:
    """What the character ``found`` in ``value`` is (a line break, a control character, a
    space, one outside ``charset``), or None when nothing was found."""
    if found is None:
        return None
    char, where = found[0], f"at character {found.start() + 1} of {len(value)}"
    if char in "\r\n":
        return f"contains a line break (CR or LF) {where}"
    if char == " ":
        return f"contains a space {where}"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"contains a control character (U+{ord(char):04X}) {where}"
    hint = " (a curly quote or a non-breaking space pasted with it?)" if ord(char) > 0x7F else ""
    return f"contains a non-{charset} character (U+{ord(char):04X}) {where}{hint}"


def clean_credential(
    value: str,
    what: str,
    error: Callable[[str], ChatminiError] = InvalidRequestError,
) -> str:
    """``value`` without surrounding whitespace; ``error("<what> <problem>")`` when what is
    left is empty or not a valid credential. ``what`` names where it came from (``api_key``,
    ``OPENAI_API_KEY``, ``the token from <provider>``)."""
    if not isinstance(value, str):
        raise error(f"{what} must be a string, not {type(value).__name__}")
    stripped = value.strip()
    if not stripped:
        raise error(f"{what} is empty" + (" (only whitespace)" if value else ""))
    problem = credential_problem(stripped)
    if problem is not None:
        raise error(f"{what} {problem}; it cannot be sent in an HTTP header")
    return stripped


def optional_credential(value: Optional[str], what: str) -> Optional[str]:
    """None when no credential is given (None, empty or only whitespace), else
    ``clean_credential(value, what)``: for keys that may be left unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return clean_credential(value, what)
