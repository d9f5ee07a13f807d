"""Calling one pluggy hook with less machinery, when that changes nothing.

pluggy's call path (argument checks, ``_hookexec``, ``_multicall`` with its wrapper handling)
costs about 1 µs a hook, and a chat call meets six or seven; a new-style wrapper (the
OpenTelemetry plugin's send wrapper) sent a hook through it at about 5 µs. ``HookCall`` calls
the implementations straight, in pluggy's order, with pluggy's first-result rule and, for
new-style wrappers (``wrapper=True``), pluggy's teardown rules (``_multicall``'s, step for
step); an old-style ``hookwrapper``, or tracing or monitoring on, goes through pluggy. It looks
at the implementations on every call, so plugins registered or unregistered later (through the
Client or pluggy's manager directly) are seen at once.
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

    __slots__ = ("caller", "pm", "_names", "_first", "_direct", "_seen", "_calls", "_wrappers")

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
        self._wrappers: list[Call] = []  # new-style wrappers, outermost first

    def __call__(self, *args: Any) -> Any:
        impls = self.caller._hookimpls if self._direct else self.caller.get_hookimpls()
        if impls != self._seen:  # registered or unregistered since: look again
            self._look(impls)
        calls = self._calls
        if calls is None or getattr(self.pm, "_inner_hookexec", None) is not _MULTICALL:
            return self.caller(**dict(zip(self._names, args)))
        if self._wrappers:
            return self._wrapped(args)
        return self._plain(args)

    def _plain(self, args: tuple[Any, ...]) -> Any:
        """The implementations that are not wrappers, with the first-result rule."""
        calls = self._calls or ()
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

    def _wrapped(self, args: tuple[Any, ...]) -> Any:
        """pluggy's ``_multicall`` for new-style wrappers: each runs to its yield, outermost
        first; the rest are called; then each gets the result (or the exception) back,
        innermost first, and what it returns (or raises) is what the next one sees."""
        teardowns: list[Any] = []
        exception: Optional[BaseException] = None
        result: Any = None
        try:
            for wrapper in self._wrappers:
                generator = wrapper(args)
                try:
                    next(generator)
                except StopIteration:
                    raise RuntimeError(f"wrap_controller at {self.caller.name!r} did not "
                                       "yield") from None
                teardowns.append(generator)
            result = self._plain(args)
        except BaseException as exc:
            exception = exc
        for generator in reversed(teardowns):
            try:
                if exception is not None:
                    try:
                        generator.throw(exception)
                    except RuntimeError as error:  # a StopIteration thrown in: PEP 479
                        if isinstance(exception, StopIteration) and error.__cause__ is exception:
                            generator.close()
                            continue
                        raise
                else:
                    generator.send(result)
                generator.close()
            except StopIteration as stop:
                result, exception = stop.value, None
                continue
            except BaseException as exc:
                exception = exc
                continue
            exception = RuntimeError(f"wrap_controller at {self.caller.name!r} has second "
                                     "yield")
        if exception is not None:
            raise exception
        return result

    def _look(self, impls: list[Any]) -> None:
        self._seen = list(impls)
        if _MULTICALL is None or any(i.hookwrapper for i in impls):
            self._calls = None
            return
        index = {name: i for i, name in enumerate(self._names)}
        ordered = list(reversed(impls))  # pluggy's order: wrappers (outermost first), then the rest
        self._wrappers = [_bind(i.function, tuple(index[name] for name in i.argnames))
                          for i in ordered if i.wrapper]
        self._calls = [_bind(i.function, tuple(index[name] for name in i.argnames))
                       for i in ordered if not i.wrapper]

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
