"""The test server's token endpoint and bearer-token check, driven with plain requests."""

from __future__ import annotations

import time

import pytest
import requests

from chatmini.plugins._jwt_claims import jwt_claims
from chatmini.testing import Reply

ID, SECRET = "chatmini-test-client", "chatmini-test-secret"


def token(server, auth=(ID, SECRET), **form):
    form.setdefault("grant_type", "client_credentials")
    return requests.post(server.token_url, data=form, auth=auth, timeout=5)


def test_issues_opaque_tokens_by_default(server):
    answer = token(server, scope="chat")
    assert answer.status_code == 200
    body = answer.json()
    assert body == {"access_token": server.tokens.issued[0], "token_type": "Bearer",
                    "expires_in": 3600.0, "scope": "chat"}
    (request,) = server.tokens.requests
    assert (request.grant_type, request.client_auth, request.client_id) == (
        "client_credentials", "basic", ID)
    assert server.requests == []  # token requests are not API requests


def test_jwt_tokens_carry_exp_and_may_omit_expires_in(server):
    server.tokens.configure(jwt=True, expires_in=False, lifetime=120)
    body = token(server).json()
    assert "expires_in" not in body
    claims = jwt_claims(body["access_token"])
    assert claims["sub"] == ID and claims["exp"] == pytest.approx(time.time() + 120, abs=2)


def test_form_client_auth_and_refresh_token_rotation(server):
    server.tokens.configure(refresh_tokens=True)
    first = token(server, auth=None, client_id=ID, client_secret=SECRET).json()
    second = token(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    again = token(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert server.tokens.grants == ["client_credentials", "refresh_token", "refresh_token"]
    assert server.tokens.requests[0].client_auth == "post"


@pytest.mark.parametrize("auth, form, status, error", [
    ((ID, "wrong"), {}, 401, "invalid_client"),
    (None, {}, 401, "invalid_client"),
    ((ID, SECRET), {"client_id": ID, "client_secret": SECRET}, 400, "invalid_request"),
    ((ID, SECRET), {"grant_type": "password"}, 400, "unsupported_grant_type"),
])
def test_refusals_are_rfc_6749_errors(server, auth, form, status, error):
    answer = token(server, auth=auth, **form)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert server.tokens.issued == []


def test_malformed_basic_credentials_are_refused(server):
    for header in ("Basic !!!", "Basic " + "bm8tY29sb24=", "Bearer x"):
        answer = requests.post(server.token_url, data={"grant_type": "client_credentials"},
                               headers={"Authorization": header}, timeout=5)
        assert answer.status_code == 401


def test_scripted_failures_get_oauth_error_bodies(server):
    server.tokens.enqueue(Reply(status=503), Reply(status=400), Reply(delay=0.05))
    assert token(server).json()["error"] == "server_error"
    assert token(server).json()["error"] == "invalid_request"
    assert token(server).status_code == 200  # a delay-only reply issues normally
    assert server.tokens.calls == 3


def test_the_api_requires_a_valid_unexpired_token_when_asked(server):
    models = server.base_url + "/models"
    assert requests.get(models, timeout=5).status_code == 200  # not required by default
    server.tokens.configure(require=True, lifetime=0.5)
    refused = requests.get(models, timeout=5)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    value = token(server).json()["access_token"]
    headers = {"Authorization": f"Bearer {value}"}
    server.enqueue(Reply(status=500))  # a refused request leaves scripted replies alone
    assert requests.get(models, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
    assert requests.get(models, headers=headers, timeout=5).status_code == 500
    time.sleep(0.6)  # the token's lifetime passing is what is tested here
    assert requests.get(models, headers=headers, timeout=5).status_code == 401
    assert len(server.requests) == 5


def test_revocation_reset_and_unknown_settings(server):
    server.tokens.configure(require=True)
    value = token(server).json()["access_token"]
    server.tokens.revoke_access_tokens()
    headers = {"Authorization": f"Bearer {value}"}
    assert requests.get(server.base_url + "/models", headers=headers, timeout=5).status_code == 401
    server.reset()
    assert server.tokens.requests == [] and server.tokens.issued == []
    assert server.tokens.require is True  # settings survive a reset
    with pytest.raises(TypeError, match="unknown token setting"):
        server.tokens.configure(lifetme=3)
