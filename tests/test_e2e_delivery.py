"""End to end with real processes: `chatkit server` plus one `chatkit` process per command.

Two or three people (one data dir each) talk through a real server; then the
server is killed, the reply is lost on the wire, and the client is killed in
the middle of a sync — and every message still arrives exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat

import pytest

from e2e_support import DroppingProxy, ck, ck_json, ck_ok, login, post_as, session_for

pytestmark = pytest.mark.slow


@pytest.fixture
def people(tmp_path, live_server):
    """alice and bob, logged in (`chatkit login` itself is exercised by the first test)."""
    dirs = {}
    for name in ("alice", "bob"):
        dirs[name] = tmp_path / name
        session_for(dirs[name], name, live_server.url)
    return dirs


def bodies(data_dir, peer):
    """What the archive holds from `peer`, oldest first (read straight from client.db)."""
    conn = sqlite3.connect(data_dir / "client.db")
    try:
        return [row[0] for row in conn.execute(
            "SELECT body FROM messages WHERE peer = ? ORDER BY sent_at, id", (peer,))]
    finally:
        conn.close()


def outbox_rows(data_dir):
    conn = sqlite3.connect(data_dir / "client.db")
    try:
        return conn.execute("SELECT m.uuid, m.body, o.state, o.attempts FROM outbox o "
                            "JOIN messages m ON m.id = o.message ORDER BY m.id").fetchall()
    finally:
        conn.close()


def server_count(live_server, sql, params=()):
    conn = sqlite3.connect(live_server.db_path)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def test_two_people_chat_and_conversations_follow_the_newest(live_server, tmp_path):
    alice, bob, carol = tmp_path / "alice", tmp_path / "bob", tmp_path / "carol"
    for data_dir in (alice, bob, carol):
        created = login(data_dir, data_dir.name, live_server.url)
        assert created.stdout.startswith(f"Created the account {data_dir.name} on {live_server.url}")
    ck_ok(alice, "send", "bob", "Hallo Bob, wie geht's?")
    ck_ok(carol, "send", "alice", "lunch?")
    received = ck_ok(bob, "sync")
    assert "alice: Hallo Bob, wie geht's?" in received.stdout
    ck_ok(bob, "send", "alice", "Gut, danke!")
    ck_ok(alice, "sync")
    convs = ck_json(alice, "conversations")
    assert [(c["peer"], c["unread_count"], c["message_count"]) for c in convs] == [("bob", 1, 2), ("carol", 1, 1)]
    ck_ok(carol, "send", "alice", "12:30 then")
    ck_ok(alice, "sync")
    convs = ck_json(alice, "conversations")
    assert [(c["peer"], c["unread_count"], c["last_body"]) for c in convs] == [
        ("carol", 2, "12:30 then"), ("bob", 1, "Gut, danke!")]
    shown = [m["body"] for m in ck_json(alice, "history", "bob")]
    assert shown == ["Hallo Bob, wie geht's?", "Gut, danke!"]  # history marks them read
    assert [c["unread_count"] for c in ck_json(alice, "conversations")] == [2, 0]
    assert_token_only_in_session_json(alice)


def assert_token_only_in_session_json(data_dir):
    path = data_dir / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = json.loads(path.read_text())["token"]
    files = [name for name in os.listdir(data_dir) if name.startswith("client.db")]
    assert "client.db" in files
    for name in files:  # the database and its WAL: Datasette may serve them
        assert token.encode() not in (data_dir / name).read_bytes(), name


def test_outage_send_exits_75_and_sync_delivers_exactly_once(people, live_server):
    alice, bob = people["alice"], people["bob"]
    live_server.kill()
    down = ck(alice, "send", "bob", "sent during the outage")
    assert down.returncode == 75, down.stderr
    assert down.stderr.strip().splitlines() == [
        f"Error: Not delivered yet: kept in the outbox, will retry (cannot reach {live_server.url}: connection refused)."]
    [(uuid, body, state, attempts)] = outbox_rows(alice)
    assert (body, state, attempts) == ("sent during the outage", "pending", 1)
    live_server.start()
    synced = ck_ok(alice, "sync")
    assert "Delivered to bob: sent during the outage" in synced.stdout
    assert outbox_rows(alice) == []
    ck_ok(bob, "sync")
    ck_ok(bob, "sync")
    assert bodies(bob, "alice") == ["sent during the outage"]
    assert server_count(live_server, "SELECT count(*) FROM messages WHERE uuid = ?", (uuid,)) == 1
    assert server_count(live_server, "SELECT count(*) FROM messages") == 1


def test_lost_reply_then_sync_gives_the_recipient_one_copy(people, live_server, tmp_path):
    alice, bob = people["alice"], people["bob"]
    proxy = DroppingProxy(live_server.port)
    try:
        via_proxy = tmp_path / "alice-via-proxy"
        via_proxy.mkdir()
        session = json.loads((alice / "session.json").read_text())
        session["server"] = proxy.url
        (via_proxy / "session.json").write_text(json.dumps(session))
        lost = ck(via_proxy, "send", "bob", "did you get this?")
        assert lost.returncode == 75, lost.stderr
        assert "the connection broke before the reply arrived" in lost.stderr
        assert proxy.dropped == 1
        assert server_count(live_server, "SELECT count(*) FROM messages") == 1  # committed on the server
        assert [row[1] for row in outbox_rows(via_proxy)] == ["did you get this?"]
        proxy.mode = "forward"
        synced = ck_ok(via_proxy, "sync")
        assert "Delivered to bob: did you get this?" in synced.stdout
        assert outbox_rows(via_proxy) == []
    finally:
        proxy.close()
    assert server_count(live_server, "SELECT count(*) FROM messages") == 1
    ck_ok(bob, "sync")
    assert bodies(bob, "alice") == ["did you get this?"]


def test_client_killed_between_fetch_and_commit_loses_and_doubles_nothing(people, live_server):
    alice, bob = people["alice"], people["bob"]
    from chatkit.client.session import load_session

    sender = load_session(alice)
    expected = []
    for point in ("after_fetch", "before_commit"):  # before the transaction, and inside it
        for n in (1, 2):
            expected.append(f"{point} {n}")
            post_as(sender, "bob", expected[-1])
        killed = ck(bob, "sync", env={"CHATKIT_TEST_FAULT": point})
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert bodies(bob, "alice") == expected[:-2]  # nothing of this round committed ...
        assert server_count(live_server, "SELECT count(*) FROM messages WHERE body IS NOT NULL") == 2  # ... or acked
        ck_ok(bob, "sync")
        ck_ok(bob, "sync")
        assert bodies(bob, "alice") == expected
        assert server_count(live_server, "SELECT count(*) FROM messages WHERE body IS NOT NULL") == 0


def test_sender_killed_after_the_server_stored_it(people, live_server):
    alice, bob = people["alice"], people["bob"]
    killed = ck(alice, "send", "bob", "half way", env={"CHATKIT_TEST_FAULT": "after_post"})
    assert killed.returncode == -signal.SIGKILL
    assert [row[1] for row in outbox_rows(alice)] == ["half way"]  # the client could not record the 201
    ck_ok(alice, "sync")
    assert outbox_rows(alice) == []
    ck_ok(bob, "sync")
    assert bodies(bob, "alice") == ["half way"]
    assert server_count(live_server, "SELECT count(*) FROM messages") == 1


def test_logout_while_the_server_is_down(people, live_server):
    alice = people["alice"]
    live_server.kill()
    result = ck(alice, "logout")
    assert result.returncode == 0
    assert "not revoked on the server" in result.stdout
    assert not (alice / "session.json").exists()
    assert ck(alice, "sync").returncode == 3


def test_revoked_or_expired_token_says_run_chatkit_login(people, live_server, tmp_path):
    alice = people["alice"]
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "session.json").write_text((alice / "session.json").read_text())
    ck_ok(twin, "logout")
    for args in (["sync"], ["users"], ["send", "bob", "x"]):
        result = ck(alice, *args)
        assert result.returncode == 3, (args, result.stderr)
        assert "run chatkit login" in result.stderr
        assert "Traceback" not in result.stderr
    conn = sqlite3.connect(live_server.db_path)
    conn.execute("UPDATE sessions SET expires_at = '2000-01-01 00:00:00.000000'")
    conn.commit()
    conn.close()
    bob = people["bob"]
    expired = ck(bob, "sync")
    assert expired.returncode == 3 and "run chatkit login" in expired.stderr
    login(alice, "alice", live_server.url)  # logging in again picks up where the outbox left off
    assert ck_ok(alice, "outbox", "retry").stdout == "Delivered to bob.\n"
