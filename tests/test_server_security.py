"""Secrets stay secret: in the database files, in replies and in the log."""

import hashlib
import logging
import uuid

import pytest

from fixtures_server import bearer, login

PASSWORD = "Sup3r-Secret-Passw0rd!"


def db_bytes(path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            with open(f"{path}{suffix}", "rb") as f:
                data += f.read()
        except FileNotFoundError:
            pass
    return data


def test_no_password_or_token_in_the_database_files(client, app):
    reply = client.post("/api/login", json={"username": "alice", "password": PASSWORD}).get_json()
    token = reply["token"]
    second = client.post("/api/login", json={"username": "alice", "password": PASSWORD}).get_json()["token"]
    client.post("/api/login", json={"username": "alice", "password": PASSWORD + "-wrong"})
    client.post("/api/logout", headers=bearer(second))
    blob = db_bytes(app.config["DATABASE"])
    for secret in (PASSWORD, token, second):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert secret.encode(encoding) not in blob, secret
    assert hashlib.sha256(token.encode()).hexdigest().encode() in blob  # only the digest is kept
    app.extensions["chatkit"].store.close()
    assert PASSWORD.encode() not in db_bytes(app.config["DATABASE"])


def test_wal_file_is_checked_too(client, app):
    login(client, "alice", PASSWORD)
    import os
    assert os.path.exists(app.config["DATABASE"] + "-wal")


def test_replies_never_carry_hashes(client):
    token = login(client, "alice", PASSWORD)
    for path in ("/api/users", "/api/messages"):
        text = client.get(path, headers=bearer(token)).get_data(as_text=True)
        assert "argon2" not in text and PASSWORD not in text


def test_tokens_carry_256_random_bits_and_differ(client):
    tokens = {login(client, "alice", PASSWORD) for _ in range(5)}
    assert len(tokens) == 5 and all(len(t) == 43 for t in tokens)  # token_urlsafe(32)


def test_a_token_works_only_as_a_bearer_header(client):
    token = login(client, "alice", PASSWORD)
    assert client.get("/api/users", headers={"Cookie": f"token={token}"}).status_code == 401
    assert client.get(f"/api/users?access_token={token}").status_code == 401
    assert client.get("/api/users", headers=bearer(token)).status_code == 200


def test_log_has_one_line_per_event_and_no_secret(client, caplog):
    with caplog.at_level(logging.INFO, logger="chatkit.server"):
        alice = login(client, "alice", PASSWORD)
        login(client, "alice", PASSWORD)
        bob = login(client, "bob", PASSWORD)
        body = "the body text must not be logged"
        client.post("/api/messages", headers=bearer(alice), json={
            "id": str(uuid.uuid4()), "to": "bob", "body": body, "sent_at": "2026-12-04T10:00:00Z"})
        for _ in range(6):
            client.post("/api/login", json={"username": "alice", "password": "wrong-password-x"})
        client.post("/api/logout", headers=bearer(bob))
    lines = [r.getMessage() for r in caplog.records if r.name == "chatkit.server"]
    assert sum(line.startswith("registered alice") for line in lines) == 1
    assert sum(line.startswith("registered bob") for line in lines) == 1
    assert sum(line.startswith("logged in alice") for line in lines) == 1
    assert sum(line.startswith("login failed alice") for line in lines) == 5
    assert sum(line.startswith("throttled alice") for line in lines) == 1
    assert sum(line.startswith("logged out bob") for line in lines) == 1
    assert [l for l in lines if l.startswith("message relayed")] == [f"message relayed alice → bob ({len(body)} chars)"]
    text = "\n".join(lines)
    for secret in (PASSWORD, "wrong-password-x", alice, bob, body, "argon2",
                   hashlib.sha256(alice.encode()).hexdigest()):
        assert secret not in text


def test_digest_of_a_delivered_message_cannot_confirm_a_guessed_body(app, client, tmp_path):
    """messages.digest is keyed by server.key, which lives outside server.db (mode 0600)."""
    import hashlib
    import os
    import sqlite3
    import stat
    import uuid
    from pathlib import Path

    def login(name):
        reply = client.post("/api/login", json={"username": name, "password": "long enough pw"})
        return {"Authorization": f"Bearer {reply.get_json()['token']}"}

    alice, bob = login("alice"), login("bob")
    sent_at = "2026-12-04T10:00:00Z"
    body = "meet me at noon"
    reply = client.post("/api/messages", headers=alice,
                        json={"id": str(uuid.uuid4()), "to": "bob", "body": body, "sent_at": sent_at})
    assert reply.status_code == 201
    database = Path(app.config["DATABASE"])
    (digest, recipient) = sqlite3.connect(database).execute("SELECT digest, recipient FROM messages").fetchone()
    plain = hashlib.sha256(f"{recipient}\x00{'2026-12-04 10:00:00.000000'}\x00{body}".encode()).hexdigest()
    assert digest != plain
    key_file = database.parent / "server.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().strip() not in database.read_bytes().hex()
