"""Cursor pagination as openai-python does it, and the plumbing the listing resources share.

A list call returns its first ``CursorPage``; iterating the page yields every item of every
page, asking for the next page (``after`` = the last item's id) only once the items before it
are used up, and only while the server says ``has_more``. ``data`` is this page's items,
``iter_pages()`` walks the pages, ``has_next_page()`` / ``get_next_page()`` step by hand.
"""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    Generic,
    Iterator,
    Mapping,
    Optional,
    TypeVar,
)
from urllib.parse import quote, urlencode

from ..calls import answer, stream_class
from ..errors import APIError, APIResponseValidationError, InvalidRequestError
from ..objects import APIResponseObject, known
from ..pipeline import send_call
from ..raw_responses import take_mode
from .base import APIResource

if TYPE_CHECKING:
    import requests

    from ..request import Request

T = TypeVar("T", bound=APIResponseObject)
P = TypeVar("P", bound="CursorPage[Any]")


class CursorPage(APIResponseObject, Generic[T]):
    """One page of a list (``{"object": "list", "data": [...], "has_more": ...}``); iterate it
    for every item of every page, fetched lazily."""

    __slots__ = ("_next",)
    _fields = known("object data has_more first_id last_id")
    item_type: ClassVar[type[APIResponseObject]] = APIResponseObject

    def __init__(self, data: dict[str, Any], meta: Optional[dict[str, Any]] = None) -> None:
        super().__init__(data, meta)
        object.__setattr__(self, "_next", None)

    @property
    def data(self) -> list[T]:
        """This page's items."""
        items = self._data.get("data") or ()
        return [self.item_type(item, self._meta) for item in items if isinstance(item, dict)]  # type: ignore[misc]

    def next_page_info(self) -> Optional[dict[str, str]]:
        """The query of the next page (``{"after": last id}``), or None when this is the last."""
        if self._data.get("has_more") is False:
            return None
        items = self._data.get("data") or ()
        last = items[-1] if items else None
        cursor = last.get("id") if isinstance(last, dict) else None
        return {"after": cursor} if isinstance(cursor, str) and cursor else None

    def has_next_page(self) -> bool:
        """Whether another page follows (``has_more`` not false, and a last id to go on from)."""
        return self.next_page_info() is not None

    def get_next_page(self: P) -> P:
        """Fetch the next page; check ``has_next_page()`` first."""
        info = self.next_page_info()
        if info is None or self._next is None:
            raise RuntimeError("No next page: check has_next_page() before get_next_page()")
        page: P = self._next(info["after"])
        return page

    def iter_pages(self: P) -> Iterator[P]:
        """This page, then each next page, fetched as the loop reaches it."""
        page, seen = self, set()
        while True:
            yield page
            info = page.next_page_info()
            if info is None:
                return
            if info["after"] in seen:  # a server repeating itself would loop forever
                raise APIError(
                    f"The list does not advance: the page after {info['after']!r} ends with "
                    "the same id again."
                )
            seen.add(info["after"])
            page = page.get_next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self._data.get('data') or ())} items>"


class Resource(APIResource):
    """What ``client.files`` and ``client.batches`` share: calls with ids in the path and query
    parameters, sent through the Client's whole pipeline and decoded as every resource's are
    (so ``with_raw_response`` and ``with_options`` work on them too)."""

    def _build(
        self, method: str, path: str, params: Optional[Mapping[str, Any]] = None, *,
        query: Optional[Mapping[str, Any]] = None, **options: Any,
    ) -> Request:
        """The call's Request; ``options`` are the per-call ones (``timeout``,
        ``extra_headers``, ``extra_query``, ``extra_body``)."""
        call = self._client.build_request(method, path, params, **options)
        wanted = {k: v for k, v in (query or {}).items() if v is not None}
        if wanted:
            call.url += ("&" if "?" in call.url else "?") + urlencode(wanted)
        return call

    def _send(self, call: Request, cast: type[T]) -> T:
        decode = answer(self._client, call, take_mode(), cast=cast,
                        stream_cls=stream_class(call.endpoint), post_parser=_a_list)
        result: T = send_call(self._client, call, decode)
        return result

    def _call(self, method: str, path: str, cast: type[T],
              params: Optional[Mapping[str, Any]] = None, **options: Any) -> T:
        return self._send(self._build(method, path, params, **options), cast)

    def _list(self, path: str, page_type: type[P], query: dict[str, Any], **options: Any) -> P:
        """The first page of ``path``; its ``get_next_page`` asks again with ``after``."""
        page = self._send(self._build("GET", path, query=query, **options), page_type)
        return chained(page, lambda after: self._list(
            path, page_type, {**query, "after": after}, **options))


def _a_list(result: Any, response: requests.Response, request: Request) -> Any:
    """A page must hold a ``data`` list; anything else decoded is returned as it is."""
    if isinstance(result, CursorPage) and not isinstance(result._data.get("data"), list):
        raise APIResponseValidationError(
            f"Expected a list object with a 'data' list from {request.endpoint}, got "
            f"keys {sorted(result._data)[:8]}",
            response=response, body=result._data, request=request,
        )
    return result


def chained(page: P, fetch: Callable[[str], P]) -> P:
    """``page``, able to fetch the next one: ``fetch(after)`` makes the same call from there."""
    object.__setattr__(page, "_next", fetch)
    return page


def path_id(value: Any, what: str) -> str:
    """An id as one path segment (quoted, so ``../`` cannot reach another path)."""
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{what} must be a non-empty string, not {value!r}")
    return quote(value, safe="")
