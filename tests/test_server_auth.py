"""POST /api/login, /api/logout, GET /api/users through the Flask test client."""

import sqlite3
import threading

import argon2
import pytest

from fixtures_server import bearer, login


def db(app):
    return sqlite3.connect(app.config["DATABASE"])


def post_login(client, username, password="password1", **kw):
    return client.post("/api/login", json={"username": username, "password": password}, **kw)


def test_first_login_registers_then_logins_must_match(client):
    first = post_login(client, "Alice")
    assert first.status_code == 201
    body = first.get_json()
    assert set(body) == {"token", "username", "created", "expires_at"}
    assert body["username"] == "Alice" and body["created"] is True
    assert body["expires_at"].endswith("Z") and len(body["token"]) == 43

    again = post_login(client, "alice")
    assert again.status_code == 200
    assert again.get_json()["username"] == "Alice" and again.get_json()["created"] is False
    assert again.get_json()["token"] != body["token"]

    wrong = post_login(client, "ALICE", "not-the-password")
    assert wrong.status_code == 401
    assert wrong.get_json() == {"error": {"code": "bad_credentials", "message": "Wrong username or password."}}


def test_token_expires_in_thirty_days(client):
    from datetime import datetime, timedelta, timezone
    reply = post_login(client, "alice").get_json()
    expires = datetime.fromisoformat(reply["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - datetime.now(timezone.utc) - timedelta(days=30)) < timedelta(minutes=1)


def test_other_case_cannot_make_a_second_account(client, app):
    post_login(client, "Alice", "password1")
    assert post_login(client, "aLiCe", "password2").status_code == 401
    assert db(app).execute("select count(*) from users").fetchone() == (1,)


def test_every_attempt_writes_a_login_event(client, app):
    token = login(client, "alice")
    login(client, "alice")
    post_login(client, "alice", "wrong-password")
    client.post("/api/logout", headers={**bearer(token), "User-Agent": "test-agent/1"})
    rows = db(app).execute("select username, user, kind, remote_addr, user_agent from login_events order by id").fetchall()
    assert [r[2] for r in rows] == ["register", "login", "login_failed", "logout"]
    assert all(r[1] == 1 and r[3] == "127.0.0.1" and r[4] for r in rows)
    assert rows[-1][4] == "test-agent/1"


def test_logout_revokes_the_token(client):
    token = login(client)
    assert client.get("/api/users", headers=bearer(token)).status_code == 200
    reply = client.post("/api/logout", headers=bearer(token))
    assert reply.status_code == 204 and reply.data == b""
    after = client.get("/api/users", headers=bearer(token))
    assert after.status_code == 401 and after.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/api/logout", headers=bearer(token)).status_code == 401


def test_expired_token_is_refused(client, app):
    token = login(client)
    with db(app) as conn:
        conn.execute("update sessions set expires_at = '2000-01-01 00:00:00.000000'")
    assert client.get("/api/users", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer not a token",
    "Bearer " + "A" * 43,
])
def test_missing_or_bad_authorization_is_401(client, header):
    login(client)
    headers = {"Authorization": header} if header is not None else {}
    reply = client.get("/api/users", headers=headers)
    assert reply.status_code == 401
    assert reply.get_json()["error"]["code"] == "unauthorized"


def test_token_only_accepted_in_the_bearer_header(client):
    token = login(client)
    assert client.get(f"/api/users?token={token}").status_code == 401
    assert client.get("/api/users", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_users_lists_everyone_with_created_and_last_seen(client):
    token = login(client, "Bob")
    login(client, "alice")
    reply = client.get("/api/users", headers=bearer(token))
    users = reply.get_json()["users"]
    assert [u["username"] for u in users] == ["alice", "Bob"]
    assert all(set(u) == {"username", "created_at", "last_seen_at"} for u in users)
    assert all(u["created_at"].endswith("Z") and u["last_seen_at"].endswith("Z") for u in users)


def test_last_seen_is_updated_at_most_once_a_minute(client, app):
    token = login(client)
    with db(app) as conn:
        conn.execute("update sessions set last_seen_at = '2001-01-01 00:00:00.000000'")
    client.get("/api/users", headers=bearer(token))
    (seen,) = db(app).execute("select last_seen_at from sessions").fetchone()
    assert seen > "2026"
    client.get("/api/users", headers=bearer(token))
    assert db(app).execute("select last_seen_at from sessions").fetchone() == (seen,)


# --- passwords ---------------------------------------------------------------

def test_production_parameters_are_argon2id_owasp_minimum():
    from chatkit.server.passwords import PRODUCTION_PARAMS, Passwords
    params = argon2.extract_parameters(Passwords().hash("correct horse"))
    assert params.type is argon2.Type.ID
    assert params.memory_cost >= 19456 and params.time_cost >= 2 and params.parallelism >= 1
    assert PRODUCTION_PARAMS["memory_cost"] >= 19456


def test_default_app_uses_production_parameters(tmp_path):
    from chatkit.server import create_app
    app = create_app({"DATABASE": str(tmp_path / "server.db")})
    try:
        hasher = app.extensions["chatkit"].passwords.hasher
        assert (hasher.type, hasher.memory_cost, hasher.time_cost) == (argon2.Type.ID, 19456, 2)
    finally:
        app.extensions["chatkit"].close()


def test_stored_hashes_are_argon2id(client, app):
    login(client, "alice")
    (stored,) = db(app).execute("select password_hash from credentials").fetchone()
    assert stored.startswith("$argon2id$")


def test_outdated_hash_is_replaced_on_successful_login(tmp_path, app, client):
    from chatkit.server import create_app
    login(client, "alice")
    (old,) = db(app).execute("select password_hash from credentials").fetchone()
    stronger = create_app({"DATABASE": app.config["DATABASE"], "TESTING": True,
                           "ARGON2": {"time_cost": 2, "memory_cost": 16, "parallelism": 1}})
    try:
        login(stronger.test_client(), "alice")
        (new,) = db(app).execute("select password_hash from credentials").fetchone()
        assert new != old and "t=2" in new
    finally:
        stronger.extensions["chatkit"].close()


def test_concurrent_first_logins_make_exactly_one_account(client, app):
    srv = app.extensions["chatkit"]
    real_hash = srv.passwords.hash
    gate = threading.Barrier(6, timeout=10)

    def slow_hash(password):  # everyone is past the "does it exist?" check before anyone inserts
        gate.wait()
        return real_hash(password)

    srv.passwords.hash = slow_hash
    statuses = []

    def attempt(i):
        statuses.append(post_login(app.test_client(), "newname", f"password-{i}").status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join(20) for t in threads]
    assert sorted(statuses) == [201, 401, 401, 401, 401, 401]
    assert db(app).execute("select count(*) from users").fetchone() == (1,)
    assert db(app).execute("select count(*) from credentials").fetchone() == (1,)


# --- throttling -----------------------------------------------------------------

def test_more_than_five_failures_per_username_is_429_until_the_window_passes(client, app):
    login(client, "alice")
    for _ in range(5):
        assert post_login(client, "alice", "wrong-password").status_code == 401
    blocked = post_login(client, "alice", "password1")  # even the right password
    assert blocked.status_code == 429
    assert blocked.get_json()["error"]["code"] == "too_many_attempts"
    assert 880 <= int(blocked.headers["Retry-After"]) <= 900
    # malformed requests are not attempts: still 400, and they do not extend the block
    assert post_login(client, "alice", "short").status_code == 400
    kinds = [k for (k,) in db(app).execute("select kind from login_events order by id")]
    assert kinds.count("login_failed") == 5 and kinds[-1] == "throttled"
    # another user is not affected
    assert post_login(client, "bob").status_code == 201
    # once the failures are older than 15 minutes, logins work again
    with db(app) as conn:
        conn.execute("update login_events set at = '2000-01-01 00:00:00.000000' where kind = 'login_failed'")
    assert post_login(client, "alice", "password1").status_code == 200


def test_more_than_fifty_failures_from_one_address_is_429(client, app):
    names = [f"user{i}" for i in range(13)]
    for name in names:
        login(client, name)
    for i in range(50):
        assert post_login(client, names[i % 13], "wrong-password").status_code == 401
    blocked = post_login(client, "user0", "password1")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    elsewhere = post_login(client, "user0", "password1", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 200
