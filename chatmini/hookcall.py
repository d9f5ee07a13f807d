"""Calling one pluggy hook with less machinery, when that changes nothing.

pluggy's call path (argument checks, ``_hookexec``, ``_multicall`` with its wrapper handling)
costs about 1 µs a hook, and a chat call meets six or seven. ``HookCall`` calls the
implementations straight, in pluggy's order and with pluggy's first-result rule, whenever that
is all pluggy would do; with a wrapper among them, or tracing or monitoring on, it goes through
pluggy. It looks at the implementations on every call, so plugins registered or unregistered
later (through the Client or pluggy's manager directly) are seen at once.
"""

from __future__ import annotations

from typing import Any, Optional

import pluggy

from .hookspecs import PROJECT

__all__ = ["HookCall"]

_MULTICALL = getattr(pluggy.PluginManager(PROJECT), "_inner_hookexec", None)  # pluggy's own


class HookCall:
    """Calls one hook. Where pluggy would only call the implementations in its order (no
    wrappers, no tracing or monitoring) they are called straight: pluggy's call machinery
    costs about 1 µs a hook, and a call meets six. Anything else goes through pluggy.
    """

    __slots__ = ("caller", "pm", "_first", "_seen", "_calls")

    def __init__(self, pm: pluggy.PluginManager, caller: Any) -> None:
        self.caller = caller
        self.pm = pm
        self._first = bool(caller.spec is not None and caller.spec.opts.get("firstresult"))
        self._seen: Optional[list[Any]] = None  # the implementations the calls were made for
        self._calls: Optional[list[tuple[Any, tuple[str, ...]]]] = None

    def __call__(self, **kwargs: Any) -> Any:
        impls = self.caller.get_hookimpls()
        if impls != self._seen:  # registered or unregistered since: look again
            self._seen = impls
            plain = _MULTICALL is not None and not any(i.hookwrapper or i.wrapper for i in impls)
            self._calls = [(i.function, tuple(i.argnames)) for i in reversed(impls)] if plain else (
                None
            )
        calls = self._calls
        if calls is None or getattr(self.pm, "_inner_hookexec", None) is not _MULTICALL:
            return self.caller(**kwargs)
        results = []
        for function, names in calls:
            result = function(*[kwargs[name] for name in names])
            if result is not None:
                if self._first:
                    return result
                results.append(result)
        return None if self._first else results

    def wanted(self) -> bool:
        """Whether any plugin implements the hook."""
        return bool(self.caller.get_hookimpls())
