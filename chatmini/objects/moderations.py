"""``/moderations`` answers, with openai-python's attribute names for the categories
(``categories.self_harm`` reads the JSON key ``self-harm``)."""

from __future__ import annotations

from .base import APIObject, APIResponseObject, known

_CATEGORIES = (
    "harassment harassment/threatening hate hate/threatening illicit illicit/violent self-harm "
    "self-harm/instructions self-harm/intent sexual sexual/minors violence violence/graphic"
).split()
_ALIASES = {
    key.replace("/", "_").replace("-", "_"): key for key in _CATEGORIES if not key.isalpha()
}


class Categories(APIObject):
    """One boolean per category (``categories.self_harm_intent``)."""

    __slots__ = ()
    _fields = frozenset(key for key in _CATEGORIES if key.isalpha())
    _aliases = _ALIASES


class CategoryScores(APIObject):
    """One score from 0 to 1 per category, named as in Categories."""

    __slots__ = ()
    _fields = Categories._fields
    _aliases = _ALIASES


class Moderation(APIObject):
    """The verdict on one input."""

    __slots__ = ()
    _fields = known("flagged categories category_scores category_applied_input_types")
    _nested = {"categories": Categories, "category_scores": CategoryScores}


class ModerationCreateResponse(APIResponseObject):
    """The answer of ``client.moderations.create``: one result per input."""

    __slots__ = ()
    _fields = known("id model results")
    _nested = {"results": Moderation}
