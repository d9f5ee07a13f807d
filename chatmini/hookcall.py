"""Calling one pluggy hook with less machinery, when that changes nothing.

pluggy's call path (argument checks, ``_hookexec``, ``_multicall`` with its wrapper handling)
costs about 1 µs a hook, and a chat call meets six or seven. ``HookCall`` calls the
implementations straight, in pluggy's order and with pluggy's first-result rule, whenever that
is all pluggy would do; with a wrapper among them, or tracing or monitoring on, it goes through
pluggy. It looks at the implementations on every call, so plugins registered or unregistered
later (through the Client or pluggy's manager directly) are seen at once.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable, Optional

import pluggy

from .hookspecs import PROJECT

__all__ = ["HookCall"]

_MULTICALL = getattr(pluggy.PluginManager(PROJECT), "_inner_hookexec", None)  # pluggy's own
Call = Callable[[tuple[Any, ...]], Any]


class HookCall:
    """Calls one hook with its arguments in the spec's order (positionally). Where pluggy
    would only call the implementations in its order (no wrappers, no tracing or monitoring)
    they are called straight; anything else goes through pluggy.
    """

    __slots__ = ("caller", "pm", "_names", "_first", "_direct", "_seen", "_calls")

    def __init__(self, pm: pluggy.PluginManager, caller: Any) -> None:
        self.caller = caller
        self.pm = pm
        spec = caller.spec
        self._names: tuple[str, ...] = tuple(spec.argnames) if spec is not None else ()
        self._first = bool(spec is not None and spec.opts.get("firstresult"))
        # pluggy's own list of implementations, read (not copied) on every call when it has one
        self._direct = isinstance(getattr(caller, "_hookimpls", None), list)
        self._seen: Optional[list[Any]] = None  # the implementations the calls were made for
        self._calls: Optional[list[Call]] = None

    def __call__(self, *args: Any) -> Any:
        impls = self.caller._hookimpls if self._direct else self.caller.get_hookimpls()
        if impls != self._seen:  # registered or unregistered since: look again
            self._look(impls)
        calls = self._calls
        if calls is None or getattr(self.pm, "_inner_hookexec", None) is not _MULTICALL:
            return self.caller(**dict(zip(self._names, args)))
        if self._first:
            for call in calls:
                result = call(args)
                if result is not None:
                    return result
            return None
        results = []
        for call in calls:
            result = call(args)
            if result is not None:
                results.append(result)
        return results

    def _look(self, impls: list[Any]) -> None:
        self._seen = list(impls)
        if _MULTICALL is None or any(i.hookwrapper or i.wrapper for i in impls):
            self._calls = None
            return
        index = {name: i for i, name in enumerate(self._names)}
        self._calls = [_bind(i.function, tuple(index[name] for name in i.argnames))
                       for i in reversed(impls)]

    def wanted(self) -> bool:
        """Whether any plugin implements the hook."""
        return bool(self.caller._hookimpls if self._direct else self.caller.get_hookimpls())


def _bind(function: Callable[..., Any], index: tuple[int, ...]) -> Call:
    """``function`` called with the arguments it names, picked from the spec-ordered tuple."""
    if not index:
        return lambda args: function()
    if len(index) == 1:
        (at,) = index
        return lambda args: function(args[at])
    if index == tuple(range(len(index))):
        count = len(index)
        return lambda args: function(*args[:count])
    pick = itemgetter(*index)
    return lambda args: function(*pick(args))
