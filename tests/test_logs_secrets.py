"""Nothing secret reaches the server's log, even at DEBUG.

A real `chatkit server --log-level DEBUG` process serves a realistic session
driven through the real `chatkit` CLI (and a few raw HTTP requests for what
the CLI never sends): two people register, log in again, mistype their
password until throttled, send, fail to send to a nobody, long-poll, fetch,
read, hit bad input and an expired token, and log out. Then the whole log
is searched for every secret of the session: passwords (right and wrong),
raw tokens and their SHA-256 (also every token_hash in server.db), password
hashes from `credentials`, and message bodies (DESIGN.md: the log never
shows a body). Prefixes of the secrets are searched too, so a truncated
token in a log line would count as a leak.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timezone

import httpx
import pytest

pytestmark = pytest.mark.slow

ALICE_PW = "Alice-Passw0rd-Secret"
BOB_PW = "B0b's secret pass phrase"
WRONG_PW = "Wrong-Guess-Pw-123"
BODIES = ["Meet me at Gleis 7, the code is 4711", "Grüße aus München — bring the key 🔑",
          "long " + "confidential " * 40]


def cli(data_dir, *args, input=None, check=True):
    result = subprocess.run([sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), *args],
                            input=input, capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, NO_COLOR="1"))
    if check:
        assert result.returncode == 0, result.stderr
    return result


def token_of(data_dir) -> str:
    return json.loads((data_dir / "session.json").read_text())["token"]


def test_a_realistic_session_leaves_no_secret_in_a_debug_log(live_server_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("CHATKIT_LOG_LEVEL", "DEBUG")
    server = live_server_factory()
    url = server.url
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    tokens = []

    cli(alice, "login", "alice", "--server", url, "--password-stdin", input=ALICE_PW + "\n")
    tokens.append(token_of(alice))
    cli(bob, "login", "bob", "--server", url, "--password-stdin", input=BOB_PW + "\n")
    tokens.append(token_of(bob))
    cli(alice, "login", "alice", "--server", url, "--password-stdin", input=ALICE_PW + "\n")  # again
    tokens.append(token_of(alice))
    for n in range(6):  # the sixth is throttled; two through the CLI, the rest as any client would
        if n < 2:
            failed = cli(tmp_path / "mallory", "login", "bob", "--server", url, "--password-stdin",
                         input=WRONG_PW + "\n", check=False)
            assert failed.returncode == 3
        else:
            reply = httpx.post(url + "/api/login", json={"username": "bob", "password": WRONG_PW})
            assert reply.status_code == (429 if n == 5 else 401)

    # bob waits in a long poll while alice writes
    poll = threading.Thread(target=lambda: httpx.get(url + "/api/messages?after=0&wait=3", timeout=30,
                                                     headers={"Authorization": f"Bearer {tokens[1]}"}))
    poll.start()
    for body in BODIES[:2]:
        cli(alice, "send", "bob", body)
    assert httpx.post(url + "/api/messages", headers={"Authorization": f"Bearer {tokens[2]}"}, json={
        "id": str(uuid.uuid4()), "to": "bob", "body": BODIES[2],
        "sent_at": datetime.now(timezone.utc).isoformat()}).status_code == 201
    assert cli(alice, "send", "nobody-here", "a body for nobody", check=False).returncode == 4
    poll.join(30)
    cli(bob, "sync")
    history = json.loads(cli(bob, "history", "alice", "--json").stdout)
    assert [m["body"] for m in history] == BODIES
    cli(bob, "send", "alice", "reply: " + BODIES[0])
    cli(alice, "sync")
    cli(alice, "users")

    # what the CLI never sends: bad input carrying secrets, a conflict, an expired token
    auth = {"Authorization": f"Bearer {tokens[0]}"}
    httpx.post(url + "/api/login", content=f'{{"username": "alice", "password": "{ALICE_PW}"',
               headers={"Content-Type": "application/json"})  # truncated JSON
    httpx.post(url + "/api/login", json={"username": "alice", "password": ALICE_PW, "extra": [1] * 10})
    httpx.post(url + "/api/login", json={"username": ALICE_PW + "!", "password": ALICE_PW})  # invalid name
    httpx.post(url + "/api/login", json={"username": "alice", "password": ALICE_PW[:5]})  # too short
    mid = str(uuid.uuid4())
    httpx.post(url + "/api/messages", headers=auth, json={"id": mid, "to": "bob", "body": BODIES[1],
                                                         "sent_at": "2026-12-04T10:00:00Z"})
    httpx.post(url + "/api/messages", headers=auth, json={"id": mid, "to": "bob", "body": BODIES[2],
                                                         "sent_at": "2026-12-04T10:00:00Z"})  # 409
    httpx.post(url + "/api/messages", headers=auth, json={"id": "nope", "to": "bob", "body": BODIES[0],
                                                         "sent_at": "yesterday"})
    httpx.get(url + "/api/users", headers={"Authorization": f"Bearer {tokens[0][:-1]}x"})
    httpx.get(url + f"/api/users?access_token={tokens[0]}")
    httpx.get(url + "/api/nowhere", headers=auth)

    cli(alice, "logout")
    cli(bob, "logout")
    assert httpx.get(url + "/api/users", headers={"Authorization": f"Bearer {tokens[1]}"}).status_code == 401

    server.stop()
    log = server.log_text()
    conn = sqlite3.connect(server.db_path)
    try:
        stored_hashes = [row[0] for row in conn.execute("SELECT password_hash FROM credentials")]
        token_hashes = [row[0] for row in conn.execute("SELECT token_hash FROM sessions")]
    finally:
        conn.close()
    assert len(stored_hashes) == 2 and len(token_hashes) >= 3
    assert {hashlib.sha256(t.encode()).hexdigest() for t in tokens} <= set(token_hashes)

    # the log did run at DEBUG and did record the session
    assert "DEBUG log level DEBUG" in log
    for line in ("registered alice", "registered bob", "logged in alice", "login failed bob",
                 "throttled bob", "message relayed alice → bob", "logged out alice", "logged out bob"):
        assert line in log, line

    secrets = {"password": [ALICE_PW, BOB_PW, WRONG_PW], "token": tokens, "token hash": token_hashes,
               "password hash": stored_hashes, "body": BODIES + ["a body for nobody"]}
    for kind, values in secrets.items():
        for value in values:
            for needle in {value, value[:16], value[-16:]}:
                assert needle not in log, f"a {kind} ({needle[:6]}...) appears in the server log"
    assert "$argon2" not in log
    assert "Traceback" not in log

