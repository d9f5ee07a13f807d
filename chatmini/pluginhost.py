"""The plugin host: each Client's PluginManager, and a typed facade with one method per hook.

Built-in plugins are registered by name exactly like third-party ones; third-party plugins come
from the ``chatmini`` entry-point group (loaded once per process); any of them can be blocked
by name. Core code calls the facade, never ``pm.hook.x(**kw)`` blindly.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Iterable, Optional

import pluggy

from . import hookspecs
from .hookcall import HookCall
from .hookspecs import PROJECT

if TYPE_CHECKING:
    import requests

    from .client import Client
    from .errors import ChatminiError
    from .request import Request
    from .sse import ServerSentEvent
    from .streaming import EventStream

ENTRY_POINT_GROUP = "chatmini"
AUTOLOAD_ENV = "CHATMINI_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "CHATMINI_DISABLE_PLUGINS"
TRACE_ENV = "CHATMINI_TRACE_PLUGINS"


@cache
def entry_point_plugins() -> tuple[tuple[str, Any], ...]:
    """(name, object) for every installed ``chatmini`` entry point, imported once per process."""
    try:
        found: Any = entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # Python 3.9: no selection by keyword, a dict of groups instead
        found = entry_points().get(ENTRY_POINT_GROUP, ())
    return tuple((ep.name, ep.load()) for ep in found)


def env_blocked() -> set[str]:
    """Plugin names listed in CHATMINI_DISABLE_PLUGINS (comma-separated)."""
    return {name.strip() for name in os.environ.get(BLOCK_ENV, "").split(",") if name.strip()}


def env_flag(name: str) -> bool:
    """Whether a switch variable is on: set to anything but empty or 0."""
    return os.environ.get(name, "") not in ("", "0")


def autoload_enabled() -> bool:
    """False when CHATMINI_DISABLE_PLUGIN_AUTOLOAD is on."""
    return not env_flag(AUTOLOAD_ENV)


def instantiate(plugin: Any) -> Any:
    """Entry points may name a module, an object, or a class (made once per Client)."""
    return plugin() if isinstance(plugin, type) else plugin


def check_pending(pm: pluggy.PluginManager) -> None:
    """pluggy's check that every implementation names a hook, saying what a renamed hook is
    called now."""
    for old, new in hookspecs.RENAMED.items():
        caller = getattr(pm.hook, old, None)
        impls = caller.get_hookimpls() if caller is not None else []
        if impls:
            raise pluggy.PluginValidationError(
                impls[0].plugin,
                f"{old} in plugin {impls[0].plugin_name!r} is no longer a hook: implement {new}",
            )
    pm.check_pending()


class PluginHost:
    """One Client's plugins: registration order, blocking, and typed hook calls."""

    def __init__(
        self,
        builtins: Iterable[tuple[str, Any]],
        extra: Iterable[Any] = (),
        blocked: Iterable[str] = (),
        autoload: Optional[bool] = None,
    ) -> None:
        pm = pluggy.PluginManager(PROJECT)
        pm.add_hookspecs(hookspecs)
        pm.hook.chatmini_addhooks.call_historic(kwargs={"pluginmanager": pm})
        for name in {*blocked, *env_blocked()}:
            pm.set_blocked(name)
        for name, plugin in builtins:
            if not pm.is_blocked(name):
                pm.register(plugin, name=name)
        if autoload_enabled() if autoload is None else autoload:
            for name, plugin in entry_point_plugins():
                if not pm.is_blocked(name) and pm.get_plugin(name) is None:
                    pm.register(instantiate(plugin), name=name)
        for plugin in extra:
            wanted: Optional[str] = getattr(plugin, "chatmini_plugin_name", None)
            if wanted is None or not pm.is_blocked(wanted):
                pm.register(plugin, name=wanted)
        check_pending(pm)
        if env_flag(TRACE_ENV):
            pm.trace.root.setwriter(lambda text: sys.stderr.write(text))  # stderr as it is then
            pm.enable_tracing()
        self.pm = pm
        # one caller per hook, by name (chatmini_addhooks is historic: pluggy calls it)
        self._hooks = {name: HookCall(pm, getattr(pm.hook, name))
                       for name in hookspecs.HOOK_NAMES if name != "chatmini_addhooks"}

    def names(self) -> list[str]:
        """Names of the registered plugins, in registration order."""
        return [name for name, plugin in self.pm.list_name_plugin() if plugin is not None]

    def get(self, name: str) -> Any:
        """The plugin registered under ``name``, or None."""
        return self.pm.get_plugin(name)

    def register(self, plugin: Any, name: Optional[str] = None) -> Optional[str]:
        """Register one more plugin on this Client (checked against the hook specs)."""
        registered = self.pm.register(plugin, name=name)
        check_pending(self.pm)
        return registered

    def client_init(self, client: Client) -> None:
        self._hooks["chatmini_client_init"](client)

    def prepare_request(self, request: Request, client: Client) -> None:
        self._hooks["chatmini_prepare_request"](request, client)

    def authenticate(self, request: Request, client: Client) -> Optional[str]:
        header: Optional[str] = self._hooks["chatmini_authenticate"](request, client)
        return header

    def wants_local_response(self) -> bool:
        """Whether any plugin implements chatmini_local_response (else the call is skipped)."""
        return self._hooks["chatmini_local_response"].wanted()

    def local_response(self, request: Request, client: Client) -> Optional[requests.Response]:
        hook = self._hooks["chatmini_local_response"]
        response: Optional[requests.Response] = hook(request, client)
        return response

    def send(self, request: Request, client: Client) -> Optional[requests.Response]:
        response: Optional[requests.Response] = self._hooks["chatmini_send"](request, client)
        return response

    def after_attempt(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: Optional[ChatminiError],
        client: Client,
    ) -> None:
        self._hooks["chatmini_after_attempt"](request, response, error, client)

    def retry_decision(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: ChatminiError,
        client: Client,
    ) -> Optional[str]:
        hook = self._hooks["chatmini_retry_decision"]
        decision: Optional[str] = hook(request, response, error, client)
        return decision

    def wants_decode_body(self) -> bool:
        """Whether any plugin implements chatmini_decode_body (else the call is skipped)."""
        return self._hooks["chatmini_decode_body"].wanted()

    def decode_body(self, request: Request, response: requests.Response, client: Client) -> Any:
        return self._hooks["chatmini_decode_body"](request, response, client)

    def call_end(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: Optional[ChatminiError],
        client: Client,
        result: Any = None,
    ) -> None:
        self._hooks["chatmini_call_end"](request, response, error, client, result)

    def wants_stream_events(self) -> bool:
        """Whether any plugin implements chatmini_stream_event (else the call is skipped)."""
        return self._hooks["chatmini_stream_event"].wanted()

    def wants_stream_reads(self) -> bool:
        """Whether any plugin implements chatmini_stream_reads (else no arrival is noted)."""
        return self._hooks["chatmini_stream_reads"].wanted()

    def stream_reads(
        self, request: Request, reads: list[tuple[float, list[ServerSentEvent]]], client: Client
    ) -> None:
        self._hooks["chatmini_stream_reads"](request, reads, client)

    def stream_event(self, request: Request, event: ServerSentEvent, client: Client) -> None:
        self._hooks["chatmini_stream_event"](request, event, client)

    def stream_end(
        self,
        request: Request,
        stream: EventStream[Any],
        error: Optional[ChatminiError],
        client: Client,
    ) -> None:
        self._hooks["chatmini_stream_end"](request, stream, error, client)

    def stats(self, client: Client) -> Any:
        return self._hooks["chatmini_stats"](client)

    def client_close(self, client: Client) -> None:
        self._hooks["chatmini_client_close"](client)
