"""The hook the timing plugin declares: ``chatmini_timing``, once per finished call.

A plugin adds hooks of its own through the core's ``chatmini_addhooks`` (as pytest plugins do
with ``pytest_addhooks``). Implementations of a declared hook in other plugins should be marked
``@hookimpl(optionalhook=True)``, so a Client whose timing plugin is blocked still builds; they
can call ``warn_unless_declared`` to say that they will receive nothing.
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any

import pluggy

from chatmini.hookspecs import PROJECT

if TYPE_CHECKING:
    from chatmini.client import Client
    from chatmini.request import Request

    from .record import Timing

hookspec = pluggy.HookspecMarker(PROJECT)
HOOK = "chatmini_timing"


@hookspec
def chatmini_timing(request: Request, timing: Timing, client: Client) -> None:
    """Called once per finished call with its ``Timing``, after the ``timing`` plugin recorded
    it: when a call returns or raises, or for a stream when it ends.

    Exporters (Prometheus, StatsD, the call log, slow-call rules) implement it. For a dropped
    stream it runs from the finaliser. Return nothing.
    """


def declare(pluginmanager: pluggy.PluginManager) -> None:
    """Add ``chatmini_timing`` to a Client's hooks, once (any number of timing plugins may ask)."""
    caller = getattr(pluginmanager.hook, HOOK, None)
    if caller is None or caller.spec is None:
        pluginmanager.add_hookspecs(sys.modules[__name__])


def declared(client: Client) -> bool:
    """Whether some plugin of ``client`` declared ``chatmini_timing``."""
    caller: Any = getattr(client.plugin_manager.hook, HOOK, None)
    return caller is not None and caller.spec is not None


def warn_unless_declared(client: Client, who: str) -> None:
    """Warn once per Client when ``who`` needs call timings and no plugin provides them."""
    if not declared(client):
        warnings.warn(
            f"The {who} reads call timings from the chatmini_timing hook, which no plugin of "
            "this Client declares (is the built-in 'timing' plugin blocked?): it will see no "
            "calls.",
            stacklevel=2,
        )
