"""Authorisation matrix: every route × every kind of credential, against a real server.

One `chatkit server` process (module scope) holds alice, bob and mallory. Bob
has written to alice, and alice has not fetched yet, so her undelivered
messages (bodies still on the server) are what an intruder would want. Each
route is called with no token, a well-formed unknown token, a revoked token,
an expired token, and mallory's valid token:

- protected routes answer 401 with the JSON error shape for the first four;
- public routes (login, health, the OpenAPI document) answer as without a token;
- with mallory's token every route acts for mallory only, and nothing any
  route returns contains alice's messages; afterwards alice still gets every
  message bob wrote, bodies intact (mallory cannot acknowledge them away).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid

import httpx
import pytest

from fixtures_server import LiveServer

pytestmark = pytest.mark.slow

PASSWORD = "matrix-pass-1"
SECRET_BODIES = [f"for alice only #{n}: the vault code is {1000 + n}" for n in range(3)]

KINDS = ["none", "bad", "revoked", "expired", "other"]
PROTECTED = [("POST", "/api/logout"), ("GET", "/api/users"), ("POST", "/api/messages"),
             ("GET", "/api/messages")]
PUBLIC = [("POST", "/api/login"), ("GET", "/api/health"), ("GET", "/api/openapi.json")]


def _login(url, name):
    reply = httpx.post(url + "/api/login", json={"username": name, "password": PASSWORD}, timeout=30)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()["token"]


def _auth(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


class World:
    def __init__(self, server: LiveServer):
        self.server = server
        url = server.url
        self.alice = _login(url, "alice")
        self.bob = _login(url, "bob")
        self.mallory = _login(url, "mallory")
        self.bob_ids = []
        for body in SECRET_BODIES:
            mid = str(uuid.uuid4())
            reply = httpx.post(url + "/api/messages", headers=_auth(self.bob), json={
                "id": mid, "to": "alice", "body": body, "sent_at": "2026-12-04T10:00:00Z"})
            assert reply.status_code == 201, reply.text
            self.bob_ids.append(mid)
        self.revoked = _login(url, "alice")
        assert httpx.post(url + "/api/logout", headers=_auth(self.revoked)).status_code == 204
        self.expired = _login(url, "alice")
        self._expire(self.expired)

    def _expire(self, token):
        digest = hashlib.sha256(token.encode()).hexdigest()
        conn = sqlite3.connect(self.server.db_path, timeout=10)
        try:
            with conn:
                changed = conn.execute("UPDATE sessions SET expires_at = '2020-01-01 00:00:00.000000' "
                                       "WHERE token_hash = ?", (digest,)).rowcount
        finally:
            conn.close()
        assert changed == 1

    def token(self, kind):
        if kind == "none":
            return None
        if kind == "bad":
            return "A" * 43  # the right form, known to nobody
        if kind == "other":
            return _login(self.server.url, "mallory")  # fresh: logout may revoke it
        return getattr(self, kind)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("matrix") / "data").start()
    try:
        yield World(server)
    finally:
        server.stop()


def _call(url, method, path, token, *, kind=None):
    body = None
    if (method, path) == ("POST", "/api/messages"):
        body = {"id": str(uuid.uuid4()), "to": "alice", "body": "from whoever holds this token",
                "sent_at": "2026-12-04T11:00:00Z"}
    elif (method, path) == ("POST", "/api/login"):
        body = {"username": "bob", "password": PASSWORD}
    return httpx.request(method, url + path, headers=_auth(token), json=body, timeout=30)


def assert_error(reply, status, code):
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == {"error": {"code": code, "message": reply.json()["error"]["message"]}}


def assert_no_secret(text: str):
    for body in SECRET_BODIES:
        assert body not in text
    assert "vault code" not in text and "$argon2" not in text


@pytest.mark.parametrize("kind", ["none", "bad", "revoked", "expired"])
@pytest.mark.parametrize("method,path", PROTECTED)
def test_protected_routes_refuse_invalid_credentials(world, method, path, kind):
    reply = _call(world.server.url, method, path, world.token(kind))
    assert_error(reply, 401, "unauthorized")
    assert_no_secret(reply.text)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method,path", PUBLIC)
def test_public_routes_ignore_any_token(world, method, path, kind):
    reply = _call(world.server.url, method, path, world.token(kind))
    assert reply.status_code == 200, reply.text
    assert_no_secret(reply.text)
    if path == "/api/login":
        assert reply.json()["username"] == "bob"  # the body decides who logs in, never a header


@pytest.mark.parametrize("method,path", PROTECTED)
def test_another_users_token_acts_only_for_that_user(world, method, path):
    url = world.server.url
    mallory = world.token("other")
    reply = _call(url, method, path, mallory)
    assert reply.status_code in (200, 201, 204), reply.text
    assert_no_secret(reply.text)
    if (method, path) == ("GET", "/api/messages"):
        assert reply.json()["messages"] == []
    if (method, path) == ("POST", "/api/logout"):
        assert httpx.get(url + "/api/users", headers=_auth(mallory)).status_code == 401
        assert httpx.get(url + "/api/users", headers=_auth(world.alice)).status_code == 200


def test_no_route_reads_or_acknowledges_another_persons_messages(world):
    """Mallory tries every way in; alice still gets bob's messages, exactly, with bodies."""
    url = world.server.url
    mallory = world.token("other")
    seen = []
    for query in ("", "?after=0", "?after=1", "?after=9223372036854775807", "?after=0&wait=1",
                  "?after=3&wait=0"):
        reply = httpx.get(url + "/api/messages" + query, headers=_auth(mallory), timeout=30)
        assert reply.status_code == 200
        assert reply.json()["messages"] == []
        seen.append(reply.text)
    # bob's message ids, reused by mallory, are mallory's own new messages: no replay of bob's reply
    for mid, body in zip(world.bob_ids, SECRET_BODIES):
        reply = httpx.post(url + "/api/messages", headers=_auth(mallory), json={
            "id": mid, "to": "alice", "body": body, "sent_at": "2026-12-04T10:00:00Z"})
        assert reply.status_code == 201, reply.text
        seen.append(reply.text)
    seen.append(httpx.get(url + "/api/users", headers=_auth(mallory)).text)
    for text in seen:
        assert_no_secret(text)

    inbox = httpx.get(url + "/api/messages?after=0", headers=_auth(world.alice)).json()["messages"]
    from_bob = [m for m in inbox if m["from"] == "bob"]
    assert [m["body"] for m in from_bob] == SECRET_BODIES
    assert [m["id"] for m in from_bob] == world.bob_ids
    from_mallory = [m for m in inbox if m["from"] == "mallory"]
    assert set(world.bob_ids) <= {m["id"] for m in from_mallory}  # separate messages, her name on them
    assert all(m["to"] == "alice" for m in inbox)


def test_a_token_is_accepted_only_in_the_bearer_header(world):
    url = world.server.url
    token = world.alice
    for attempt in (dict(params={"access_token": token}), dict(headers={"Cookie": f"token={token}"}),
                    dict(headers={"Authorization": token}), dict(headers={"Authorization": f"Basic {token}"}),
                    dict(headers={"X-Token": token})):
        reply = httpx.get(url + "/api/users", timeout=30, **attempt)
        assert_error(reply, 401, "unauthorized")
    assert httpx.get(url + "/api/users", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_unknown_routes_and_methods_are_json_whatever_the_token(world):
    url = world.server.url
    for token in (None, world.alice):
        for method, path, status in (("GET", "/api/messages/1", 404), ("GET", "/api/users/alice", 404),
                                     ("DELETE", "/api/messages", 405), ("PUT", "/api/login", 405),
                                     ("GET", "/admin", 404), ("GET", "/server.db", 404)):
            reply = httpx.request(method, url + path, headers=_auth(token), timeout=30)
            assert reply.status_code == status
            error = json.loads(reply.text)["error"]
            assert set(error) == {"code", "message"}
