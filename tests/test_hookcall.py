"""HookCall gives what pluggy's own call gives, for any mix of implementations: plain ones that
return a value, None or raise, and new-style wrappers that pass the result on, change it, raise,
swallow an exception, or misbehave (no yield, a second yield); firstresult hooks and others;
tryfirst/trylast order. Hypothesis picks the mix; pluggy's answer is the oracle."""

from __future__ import annotations

from typing import Any

import pluggy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatmini.hookcall import HookCall

spec = pluggy.HookspecMarker("hookcall_test")
impl = pluggy.HookimplMarker("hookcall_test")


class Specs:
    @spec
    def each(self, x: int, y: int) -> Any: ...

    @spec(firstresult=True)
    def first(self, x: int, y: int) -> Any: ...


class Boom(Exception):
    pass


PLAIN = ["none", "value", "raise", "y-only"]
WRAP = ["pass", "change", "raise-after", "swallow", "raise-before", "no-yield", "two-yields"]
ORDER = [{}, {"tryfirst": True}, {"trylast": True}]


def plain(kind: str, n: int, order: dict[str, bool], hook: str) -> Any:
    class Plain:
        def impl(self, x: int, y: int) -> Any:
            if kind == "raise":
                raise Boom(f"plain {n}")
            return None if kind == "none" else (n, x, y)

        def impl_y(self, y: int) -> Any:
            return (n, "y", y)

    function = Plain.impl_y if kind == "y-only" else Plain.impl
    setattr(Plain, hook, impl(**order)(function))
    return Plain()


def wrapper(kind: str, n: int, order: dict[str, bool], hook: str) -> Any:
    class Wrap:
        def impl(self, x: int, y: int) -> Any:
            if kind == "raise-before":
                raise Boom(f"before {n}")
            if kind == "no-yield":
                return
            try:
                result = yield
            except Boom:
                if kind == "swallow":
                    return ("swallowed", n)
                raise
            if kind == "two-yields":
                yield
            if kind == "change":
                return ("changed", n, result)
            if kind == "raise-after":
                raise Boom(f"after {n}")
            return result

    setattr(Wrap, hook, impl(wrapper=True, **order)(Wrap.impl))
    return Wrap()


def outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except Boom as exc:
        return ("boom", str(exc))
    except RuntimeError as exc:  # a wrapper that did not yield or yielded twice
        text = str(exc)
        return ("wrapfail", "did not yield" in text, "second yield" in text)


@settings(max_examples=300, deadline=None)
@given(hook=st.sampled_from(["each", "first"]),
       parts=st.lists(st.tuples(st.booleans(), st.integers(0, 6), st.integers(0, 2)),
                      max_size=6))
def test_hookcall_answers_as_pluggy_does(hook, parts):
    pm = pluggy.PluginManager("hookcall_test")
    pm.add_hookspecs(Specs)
    for n, (is_wrapper, kind, order) in enumerate(parts):
        make = wrapper if is_wrapper else plain
        kinds = WRAP if is_wrapper else PLAIN
        pm.register(make(kinds[kind % len(kinds)], n, ORDER[order], hook), name=f"p{n}")
    caller = getattr(pm.hook, hook)
    fast = HookCall(pm, caller)
    assert outcome(lambda: fast(1, 2)) == outcome(lambda: caller(x=1, y=2))
    assert fast._calls is not None  # new-style wrappers did not send it through pluggy


def test_an_old_style_hookwrapper_still_goes_through_pluggy():
    pm = pluggy.PluginManager("hookcall_test")
    pm.add_hookspecs(Specs)

    class Old:
        @impl(hookwrapper=True)
        def each(self, x: int, y: int) -> Any:
            outcome = yield
            outcome.force_result([*outcome.get_result(), "old"])

    pm.register(Old())
    pm.register(plain("value", 0, {}, "each"))
    fast = HookCall(pm, pm.hook.each)
    assert fast(1, 2) == [(0, 1, 2), "old"]
    assert fast._calls is None


@pytest.mark.parametrize("hook", ["each", "first"])
def test_wrappers_registered_later_are_seen(hook):
    pm = pluggy.PluginManager("hookcall_test")
    pm.add_hookspecs(Specs)
    pm.register(plain("value", 0, {}, hook), name="plain")
    fast = HookCall(pm, getattr(pm.hook, hook))
    before = fast(1, 2)
    pm.register(wrapper("change", 1, {}, hook), name="wrap")
    assert fast(1, 2) == ("changed", 1, before)
    pm.unregister(name="wrap")
    assert fast(1, 2) == before
