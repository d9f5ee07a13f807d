"""OAuth2 client credentials over real sockets: grants, caching, refresh, single flight, 401s."""

from __future__ import annotations

import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import chatmini
from chatmini.plugins._token_cache import MAX_LIFETIME
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.testing import Reply, Server

from .auth_support import CLIENT_SECRET, bearer_tokens, create, oauth_for
from .conftest import SECRET_KEY


def test_client_credentials_with_basic_auth_and_a_bearer_token_on_every_call(make_client, server):
    server.tokens.configure(require=True)
    oauth = oauth_for(server)
    client = make_client(api_key=None, auth=oauth)
    for _ in range(3):
        assert create(client).choices[0].message.content == "echo: hi"
    (request,) = server.tokens.requests
    assert (request.grant_type, request.client_auth) == ("client_credentials", "basic")
    assert "client_secret" not in request.form
    assert bearer_tokens(server) == [server.tokens.issued[0]] * 3
    assert "api_key" not in client.plugin_host.names() and client.auth is oauth
    assert "auth=OAuth2ClientCredentials" in repr(client)


def test_form_client_auth_carries_scope_audience_and_extra_fields(make_client, server):
    oauth = oauth_for(server, auth_method="post", scope=["api.read", "api.write"],
                      audience="https://api.example", extra_params={"resource": "chat"})
    create(make_client(api_key=None, auth=oauth))
    (request,) = server.tokens.requests
    assert request.client_auth == "post"
    assert request.form == {
        "grant_type": "client_credentials", "scope": "api.read api.write",
        "audience": "https://api.example", "resource": "chat",
        "client_id": server.tokens.client_id, "client_secret": CLIENT_SECRET,
    }


def test_client_ids_and_secrets_with_reserved_characters_survive_basic_auth(make_client, server):
    server.tokens.configure(client_id="id:with space", client_secret="p@ss:w/rd+=%", require=True)
    oauth = OAuth2ClientCredentials(
        server.token_url, "id:with space", "p@ss:w/rd+=%", max_retries=0
    )
    assert create(make_client(api_key=None, auth=oauth)).choices


def test_tokens_are_refreshed_before_they_expire_during_a_long_run(make_client, server):
    server.tokens.configure(require=True, lifetime=1.0)  # the client refreshes after ~0.5 s
    client = make_client(api_key=None, auth=oauth_for(server, skew=60))
    calls = 0
    deadline = time.monotonic() + 2.2
    while time.monotonic() < deadline:
        create(client)
        calls += 1
    assert len(server.requests) == calls  # no request was refused and replayed
    assert 3 <= server.tokens.calls < calls
    assert server.tokens.grants == ["client_credentials"] * server.tokens.calls


def test_expiry_comes_from_the_jwt_when_expires_in_is_missing(make_client, server):
    server.tokens.configure(jwt=True, expires_in=False, lifetime=1000)
    oauth = oauth_for(server, skew=30, default_lifetime=5)
    before = time.time()
    create(make_client(api_key=None, auth=oauth))
    token = oauth.token()
    assert token.expires_at == pytest.approx(before + 1000, abs=2)
    assert oauth.cache.refresh_at == pytest.approx(token.expires_at - 30)


def test_default_lifetime_applies_to_an_opaque_token_without_expires_in(make_client, server):
    server.tokens.configure(expires_in=False)
    oauth = oauth_for(server, skew=1, default_lifetime=120)
    before = time.time()
    create(make_client(api_key=None, auth=oauth))
    assert oauth.token().expires_at == pytest.approx(before + 120, abs=2)


@pytest.mark.parametrize(
    "expires_in", [pytest.param(10**400, id="400-digits"), "1e999", "NaN", -30, "-5", [60]])
def test_an_absurd_expires_in_is_ignored(make_client, server, expires_in):
    server.tokens.enqueue(Reply(body={"access_token": "access-1", "expires_in": expires_in}))
    oauth = oauth_for(server, skew=1, default_lifetime=120)
    before = time.time()
    create(make_client(api_key=None, auth=oauth))
    assert bearer_tokens(server) == ["access-1"]
    assert oauth.token().expires_at == pytest.approx(before + 120, abs=2)


def test_a_huge_expires_in_or_jwt_exp_is_held_to_a_year(make_client, server):
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
    claims = base64.urlsafe_b64encode(b'{"exp":1%s}' % (b"0" * 400)).decode().rstrip("=")
    jwt = f"{header}.{claims}.sig"
    server.tokens.enqueue(Reply(body={"access_token": "access-1", "expires_in": 1e300}),
                          Reply(body={"access_token": jwt}))
    oauth = oauth_for(server, skew=1, default_lifetime=120)
    before = time.time()
    create(make_client(api_key=None, auth=oauth))
    assert oauth.token().expires_at == pytest.approx(before + MAX_LIFETIME, abs=2)
    oauth.cache.invalidate(oauth.token())
    assert oauth.token().value == jwt  # a 400-digit exp: no expiry known, the default applies
    assert oauth.token().expires_at == pytest.approx(before + 120, abs=2)


def test_32_threads_finding_the_token_expired_make_one_token_request(make_client, server):
    threads = 32
    server.tokens.configure(require=True, lifetime=1.0)
    oauth = oauth_for(server, skew=60)
    client = make_client(api_key=None, auth=oauth)
    create(client)
    first = oauth.token()
    time.sleep(max(0.0, oauth.cache.refresh_at - time.time()) + 0.05)  # let it come due
    server.tokens.configure(lifetime=60)  # the refreshed token outlives the test
    server.tokens.enqueue(Reply(delay=0.3))  # a slow token endpoint, so the threads pile up
    barrier = threading.Barrier(threads)

    def call(_):
        barrier.wait(10)
        return create(client).choices[0].message.content

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(call, range(threads)))
    assert results == ["echo: hi"] * threads
    assert server.tokens.calls == 2  # the first token, and exactly one refresh
    assert oauth.cache.fetches == 2 and oauth.cache.waits >= 1
    second = server.tokens.issued[1]
    assert bearer_tokens(server) == [first.value] + [second] * threads


def test_a_401_drops_the_token_and_replays_once_with_a_new_one(make_client, server):
    server.tokens.configure(require=True)
    client = make_client(api_key=None, auth=oauth_for(server), max_retries=0)
    create(client)
    server.tokens.revoke_access_tokens()  # the API stops accepting the cached token
    assert create(client).choices
    old, new = server.tokens.issued
    assert bearer_tokens(server) == [old, old, new]


def test_a_401_with_the_fresh_token_raises_instead_of_looping(make_client, server):
    client = make_client(api_key=None, auth=oauth_for(server), max_retries=2)
    server.enqueue(*[Reply(status=401)] * 5)
    with pytest.raises(chatmini.AuthenticationError) as info:
        create(client)
    assert info.value.status_code == 401
    assert len(server.requests) == 2 and server.tokens.calls == 2
    assert len(set(bearer_tokens(server))) == 2


def test_refresh_token_grant_then_fallback_to_client_credentials(make_client, server):
    server.tokens.configure(require=True, refresh_tokens=True)
    client = make_client(api_key=None, auth=oauth_for(server))
    create(client)
    server.tokens.revoke_access_tokens()
    create(client)  # 401, then the refresh grant
    server.tokens.revoke_access_tokens()
    server.tokens.revoke_refresh_tokens()
    create(client)  # 401, the refresh grant is refused, then client credentials again
    assert server.tokens.grants == [
        "client_credentials", "refresh_token", "refresh_token", "client_credentials"]
    issued = server.tokens.issued  # access, refresh, access, refresh, access, refresh
    refresh_forms = [r.form.get("refresh_token") for r in server.tokens.requests[1:3]]
    assert refresh_forms == [issued[1], issued[3]]
    assert all(r.client_auth == "basic" for r in server.tokens.requests)


def test_a_refresh_answer_without_a_refresh_token_keeps_the_old_one(make_client, server):
    server.tokens.enqueue(
        Reply(body={"access_token": "access-1", "refresh_token": "refresh-1", "expires_in": 60}),
        Reply(body={"access_token": "access-2", "token_type": "bearer", "expires_in": 60}),
    )
    client = make_client(api_key=None, auth=oauth_for(server))
    create(client)
    server.enqueue(Reply(status=401))
    create(client)
    server.enqueue(Reply(status=401))
    create(client)
    # the server never issued refresh-1 itself, so the second refresh falls back
    assert server.tokens.grants == [
        "client_credentials", "refresh_token", "refresh_token", "client_credentials"]
    assert [r.form.get("refresh_token") for r in server.tokens.requests[1:3]] == ["refresh-1"] * 2


def test_configured_from_the_environment(monkeypatch, server):
    oauth_for(server)  # sets the server's secret
    monkeypatch.setenv("CHATMINI_OAUTH_TOKEN_URL", server.token_url)
    monkeypatch.setenv("CHATMINI_OAUTH_CLIENT_ID", server.tokens.client_id)
    monkeypatch.setenv("CHATMINI_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CHATMINI_OAUTH_SCOPE", "chat")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    server.tokens.configure(require=True)
    with chatmini.Client(base_url=server.base_url) as client:
        assert isinstance(client.auth, OAuth2ClientCredentials) and client.api_key is None
        assert create(client).choices
    assert server.tokens.requests[0].form["scope"] == "chat"
    assert SECRET_KEY not in str([dict(r.headers) for r in server.requests])
    with chatmini.Client(SECRET_KEY, base_url=server.base_url) as client:  # explicit key wins
        assert client.auth is None and "api_key" in client.plugin_host.names()


def test_missing_environment_settings_are_named(monkeypatch):
    monkeypatch.setenv("CHATMINI_OAUTH_TOKEN_URL", "https://login.example/token")
    with pytest.raises(chatmini.InvalidRequestError) as info:
        chatmini.Client()
    assert "CHATMINI_OAUTH_CLIENT_ID" in str(info.value)
    assert "CHATMINI_OAUTH_CLIENT_SECRET" in str(info.value)
    assert "TOKEN_URL" not in str(info.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"token_url": "ftp://x/token"}, r"token_url must be an http:// or https:// URL"),
    ({"token_url": "https://id:pw-UNIQUE-123@x/token"}, r"token_url must not carry credentials"),
    ({"client_secret": " \n"}, "needs a client_id and a client_secret"),
    ({"auth_method": "jwt"}, "auth_method must be 'basic' or 'post'"),
    ({"client_secret": ""}, "needs a client_id and a client_secret"),
])
def test_bad_settings_fail_clearly(kwargs, message):
    settings = {"token_url": "https://login.example/token", "client_id": "id",
                "client_secret": "s", **kwargs}
    with pytest.raises(chatmini.InvalidRequestError, match=message):
        OAuth2ClientCredentials(**settings)


def test_auth_and_api_key_together_or_an_unusable_auth_are_refused():
    with pytest.raises(chatmini.InvalidRequestError, match="api_key= or auth="):
        chatmini.Client("sk-x", auth=lambda: "token")
    with pytest.raises(chatmini.InvalidRequestError, match="auth= takes"):
        chatmini.Client(auth="a-fixed-token")


def test_secret_over_plain_http_to_another_host_warns():
    with pytest.warns(chatmini.InsecureTransportWarning, match="client secret"):
        OAuth2ClientCredentials("http://login.example/token", "id", "secret")


def test_passed_in_plugins_replaces_api_key_auth(make_client, server):
    client = make_client(plugins=[oauth_for(server)])  # api_key=SECRET_KEY as well
    create(client)
    # api_key stays registered (no plugin unregisters another) but stands back: OAuth2 answers
    # chatmini_authenticate first, and the API key never reaches the server (asserted below)
    assert client.plugin_host.names()[-1] == "oauth2"
    assert bearer_tokens(server) == server.tokens.issued
    assert SECRET_KEY not in str([dict(r.headers) for r in server.requests])


def test_an_explicit_authorization_header_wins(make_client, server):
    client = make_client(api_key=None, auth=oauth_for(server))
    create(client, extra_headers={"Authorization": "Bearer caller-token"})
    assert bearer_tokens(server) == ["caller-token"] and server.tokens.calls == 0


def test_streams_carry_the_token(make_client, server):
    server.tokens.configure(require=True)
    client = make_client(api_key=None, auth=oauth_for(server))
    with create(client, stream=True) as stream:
        assert "".join(stream.text_deltas()) == "echo: hi"
    assert bearer_tokens(server) == server.tokens.issued


def test_a_redirect_to_another_host_sends_nothing_there(make_client, server):
    server.tokens.configure(require=True)
    client = make_client(api_key=None, auth=oauth_for(server), max_retries=0)
    with Server() as other:
        server.enqueue(Reply(status=307, headers={
            "Location": other.base_url + "/chat/completions"}))
        with pytest.raises(chatmini.APIStatusError) as info:
            create(client)
        assert info.value.status_code == 307
        assert other.requests == [] and other.connections_opened == 0
        assert other.tokens.calls == 0
    assert len(server.requests) == 1
