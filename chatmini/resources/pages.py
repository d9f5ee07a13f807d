"""Cursor-paginated lists (openai-python's ``SyncCursorPage``): one page's ``data``, and
iteration that goes on through the next pages, each asked for with ``after=`` its last id."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional

from ..objects import APIObject, APIResponseObject


class CursorPage:
    """One page of a list: ``data`` (this page's items), ``has_more``, ``first_id``,
    ``last_id``. Iterating yields every item of this page and the pages after it."""

    def __init__(self, page: APIResponseObject, fetch: Callable[[str], CursorPage]) -> None:
        self._page = page
        self._fetch = fetch  # the next page: the same call with after=<id>

    @property
    def data(self) -> list[APIObject]:
        items = self._page.to_dict().get("data")
        return [APIObject(item) for item in items or () if type(item) is dict]

    @property
    def has_more(self) -> Optional[bool]:
        return self._page.get("has_more")  # type: ignore[no-any-return]

    @property
    def first_id(self) -> Optional[str]:
        return self._page.get("first_id")  # type: ignore[no-any-return]

    @property
    def last_id(self) -> Optional[str]:
        return self._page.get("last_id")  # type: ignore[no-any-return]

    def has_next_page(self) -> bool:
        """Whether the server has more and this page ends with an item id to go on from."""
        data = self.data
        return self.has_more is not False and bool(data) and isinstance(data[-1].get("id"), str)

    def get_next_page(self) -> CursorPage:
        """The next page (check ``has_next_page()`` first)."""
        return self._fetch(self.data[-1]["id"])

    def iter_pages(self) -> Iterator[CursorPage]:
        """This page, then every next page, fetched as they are reached."""
        page = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            yield page

    def __iter__(self) -> Iterator[APIObject]:
        for page in self.iter_pages():
            yield from page.data

    def to_dict(self) -> dict[str, Any]:
        """This page as parsed JSON."""
        return self._page.to_dict()

    def __repr__(self) -> str:
        return f"<CursorPage items={len(self.data)} has_more={self.has_more}>"
