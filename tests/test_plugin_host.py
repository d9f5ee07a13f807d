"""The plugin host: built-ins by name, entry points, blocking, autoload switch, checks, tracing."""

from __future__ import annotations

import inspect
import sys
import types
from importlib.metadata import EntryPoint

import pluggy
import pytest

import chatmini
from chatmini import hookspecs, pluginhost

from .conftest import HI


class Marker:
    """A plugin that stamps a header, to see whether it was loaded."""

    chatmini_plugin_name = "marker"

    @chatmini.hookimpl
    def chatmini_prepare_request(self, request):
        request.headers["X-Marker"] = "1"


def test_builtins_are_registered_by_name(client):
    names = client.plugin_host.names()
    assert names[:2] == ["transport", "api_key"]
    assert repr(client.plugin_host.get("api_key")).startswith("<ApiKeyAuth")


def test_blocking_a_builtin_by_name(make_client, server):
    client = make_client(disabled_plugins=["api_key"])
    assert "api_key" not in client.plugin_host.names()
    client.chat.completions.create(model="m", messages=HI)
    assert server.requests[-1].headers.get("authorization") is None


def test_blocking_by_environment(monkeypatch, make_client, server):
    monkeypatch.setenv("CHATMINI_DISABLE_PLUGINS", "marker, api_key")
    client = make_client(plugins=[Marker()])
    assert {"marker", "api_key"}.isdisjoint(client.plugin_host.names())


def test_blocking_transport_gives_clear_error(make_client):
    client = make_client(disabled_plugins=["transport"])
    with pytest.raises(chatmini.ChatminiError, match="transport"):
        client.chat.completions.create(model="m", messages=HI)


def test_plugins_argument_registers_after_builtins(make_client, server):
    client = make_client(plugins=[Marker()])
    assert client.plugin_host.names()[-1] == "marker"
    client.chat.completions.create(model="m", messages=HI)
    assert server.requests[-1].headers.get("x-marker") == "1"


def test_unknown_hook_implementation_is_rejected(make_client):
    class Typo:
        @chatmini.hookimpl
        def chatmini_prepare_requets(self, request):
            pass

    with pytest.raises(pluggy.PluginValidationError, match="unknown hook"):
        make_client(plugins=[Typo()])


def test_a_renamed_hook_is_rejected_with_its_new_name(make_client):
    class Old:
        @chatmini.hookimpl
        def chatmini_stream_read(self, request, events):
            pass

    with pytest.raises(pluggy.PluginValidationError,
                       match="chatmini_stream_read in plugin .* implement chatmini_stream_reads"):
        make_client(plugins=[Old()])
    client = make_client()
    with pytest.raises(pluggy.PluginValidationError, match="implement chatmini_stream_reads"):
        client.plugin_host.register(Old())


def test_wrong_argument_name_is_rejected(make_client):
    class Wrong:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, req):
            pass

    with pytest.raises(pluggy.PluginValidationError):
        make_client(plugins=[Wrong()])


@pytest.fixture
def fake_entry_points(monkeypatch):
    """An installed distribution exposing two plugins in the `chatmini` group."""
    module = types.ModuleType("chatmini_fake_plugin")
    module.Marker = Marker

    @chatmini.hookimpl
    def chatmini_client_init(client):
        client.fake_plugin_was_here = True

    module.chatmini_client_init = chatmini_client_init
    monkeypatch.setitem(sys.modules, "chatmini_fake_plugin", module)
    eps = [
        EntryPoint("fake_module", "chatmini_fake_plugin", "chatmini"),
        EntryPoint("fake_class", "chatmini_fake_plugin:Marker", "chatmini"),
    ]
    monkeypatch.setattr(pluginhost, "entry_points", lambda group: [e for e in eps if e.group == group])
    pluginhost.entry_point_plugins.cache_clear()
    yield
    pluginhost.entry_point_plugins.cache_clear()


def test_entry_point_plugins_are_loaded(fake_entry_points, monkeypatch, make_client, server):
    monkeypatch.delenv("CHATMINI_DISABLE_PLUGIN_AUTOLOAD")
    client = make_client()
    assert {"fake_module", "fake_class"} <= set(client.plugin_host.names())
    assert client.fake_plugin_was_here is True
    client.chat.completions.create(model="m", messages=HI)
    assert server.requests[-1].headers.get("x-marker") == "1"
    other = make_client()  # a class entry point is instantiated per Client
    assert other.plugin_host.get("fake_class") is not client.plugin_host.get("fake_class")


def test_autoload_switch_turns_entry_points_off(fake_entry_points, make_client):
    assert "fake_module" not in make_client().plugin_host.names()  # env var set by conftest
    assert "fake_module" in make_client(load_entry_points=True).plugin_host.names()


def test_entry_point_plugin_can_be_blocked(fake_entry_points, make_client):
    client = make_client(load_entry_points=True, disabled_plugins=["fake_class"])
    names = client.plugin_host.names()
    assert "fake_module" in names and "fake_class" not in names


def test_register_later_is_checked(client):
    class Bad:
        @chatmini.hookimpl
        def chatmini_nonsense(self):
            pass

    with pytest.raises(pluggy.PluginValidationError):
        client.plugin_host.register(Bad())


def test_trace_switch_prints_hook_calls(monkeypatch, make_client, capsys):
    monkeypatch.setenv("CHATMINI_TRACE_PLUGINS", "1")
    client = make_client()
    client.chat.completions.create(model="m", messages=HI)
    err = capsys.readouterr().err
    assert "chatmini_prepare_request" in err and "chatmini_send" in err
    assert "sk-test" not in err


def test_trace_switch_zero_means_off(monkeypatch, make_client, capsys):
    monkeypatch.setenv("CHATMINI_TRACE_PLUGINS", "0")
    make_client().models.list()
    assert "chatmini_send" not in capsys.readouterr().err


def test_entry_points_on_python_39_shape(monkeypatch):
    """Python 3.9's entry_points() takes no keyword and returns a dict of groups."""
    module = types.ModuleType("chatmini_py39_plugin")
    monkeypatch.setitem(sys.modules, "chatmini_py39_plugin", module)
    ep = EntryPoint("old_style", "chatmini_py39_plugin", "chatmini")

    def entry_points_39(**kwargs):
        if kwargs:
            raise TypeError("entry_points() got an unexpected keyword argument 'group'")
        return {"chatmini": [ep], "other": []}

    monkeypatch.setattr(pluginhost, "entry_points", entry_points_39)
    pluginhost.entry_point_plugins.cache_clear()
    try:
        assert pluginhost.entry_point_plugins() == (("old_style", module),)
    finally:
        pluginhost.entry_point_plugins.cache_clear()


class Order:
    """Notes the order its hooks run in, under a name; answers authenticate if asked to."""

    def __init__(self, name, seen, answer=None):
        self.name, self.seen, self.answer = name, seen, answer

    @chatmini.hookimpl
    def chatmini_prepare_request(self, request):
        self.seen.append(self.name)

    @chatmini.hookimpl
    def chatmini_authenticate(self):
        self.seen.append("auth " + self.name)
        return self.answer


class First(Order):
    @chatmini.hookimpl(tryfirst=True)
    def chatmini_prepare_request(self, request):
        self.seen.append(self.name)


def test_hooks_run_in_pluggys_order_with_or_without_its_call_machinery(make_client):
    def run(direct):
        seen = []
        client = make_client(plugins=[First("first", seen), Order("a", seen),
                                      Order("b", seen, "Authorization"), Order("c", seen)])
        request = client.build_request("POST", "/chat/completions", {})
        host = client.plugin_host
        if direct:
            host.prepare_request(request, client)
            seen.append(host.authenticate(request, client))
        else:
            host.pm.hook.chatmini_prepare_request(request=request, client=client)
            seen.append(host.pm.hook.chatmini_authenticate(request=request, client=client))
        return seen

    assert run(True) == run(False)
    assert run(True)[:4] == ["first", "c", "b", "a"]
    assert run(True)[-3:] == ["auth c", "auth b", "Authorization"]  # the first answer wins


def test_plugins_registered_later_wrappers_and_monitoring_are_honoured(client, server):
    seen = []

    class Wrapper:
        @chatmini.hookimpl(wrapper=True)
        def chatmini_prepare_request(self):
            seen.append("wrapper before")
            result = yield
            seen.append("wrapper after")
            return result

    client.chat.completions.create(model="m", messages=HI)
    client.plugin_host.register(Order("late", seen))
    client.chat.completions.create(model="m", messages=HI)
    assert seen == ["late", "auth late"]
    client.plugin_manager.register(Wrapper())  # straight through pluggy's manager, too
    client.chat.completions.create(model="m", messages=HI)
    assert seen[2:] == ["wrapper before", "late", "wrapper after", "auth late"]
    calls = []
    undo = client.plugin_manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append(name), lambda *args: None)
    client.chat.completions.create(model="m", messages=HI)
    undo()
    assert "chatmini_authenticate" in calls and "chatmini_send" in calls
    client.plugin_manager.unregister(name="timing")
    client.chat.completions.create(model="m", messages=HI)
    assert client.plugin_host.stats(client) is None  # the unregistered plugin is not called


def test_every_facade_method_hands_each_argument_to_the_hook_under_its_name(make_client):
    client = make_client()
    host = client.plugin_host
    calls = {}
    undo = host.pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.__setitem__(name, kwargs), lambda *args: None)
    try:
        for name in hookspecs.HOOK_NAMES:
            if name == "chatmini_addhooks":  # historic: pluggy calls it at registration
                continue
            method = getattr(host, name.removeprefix("chatmini_"))
            params = list(inspect.signature(method).parameters)
            assert tuple(params) == getattr(host.pm.hook, name).spec.argnames, name
            sentinels = {param: object() for param in params}
            try:
                method(**sentinels)
            except Exception:  # noqa: BLE001, S110 - implementations choke on sentinels
                pass
            assert calls[name] == sentinels, name
    finally:
        undo()
