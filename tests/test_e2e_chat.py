"""`chatkit chat` in a pseudo-terminal (pexpect) against a real `chatkit server`."""

from __future__ import annotations

import os
import sqlite3
import sys

import pexpect
import pytest

from e2e_support import ck_ok, session_for

pytestmark = pytest.mark.slow

TIMEOUT = 60  # generous: only a failing test waits this long, and CI machines may be busy


def chat(data_dir, peer):
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
    child = pexpect.spawn(sys.executable, ["-m", "chatkit_cli", "--data-dir", str(data_dir), "chat", peer],
                          env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 200))
    return child


def unread(data_dir, peer):
    conn = sqlite3.connect(data_dir / "client.db")
    try:
        row = conn.execute("SELECT unread_count FROM conversations WHERE peer = ?", (peer,)).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def bodies(data_dir, peer):
    conn = sqlite3.connect(data_dir / "client.db")
    try:
        return [r[0] for r in conn.execute("SELECT body FROM messages WHERE peer = ? ORDER BY sent_at, id", (peer,))]
    finally:
        conn.close()


def people(tmp_path, server, *names):
    dirs = {name: tmp_path / name for name in names}
    for name, data in dirs.items():
        session_for(data, name, server.url)
    return dirs


@pytest.fixture
def trio(tmp_path, live_server):
    return people(tmp_path, live_server, "alice", "bob", "carol")


@pytest.fixture
def pair(tmp_path, live_server):
    return people(tmp_path, live_server, "alice", "bob")


def test_two_people_chat_live_switch_partner_and_quit(trio):
    alice_dir, bob_dir, carol_dir = trio["alice"], trio["bob"], trio["carol"]
    ck_ok(bob_dir, "send", "alice", "earlier, from bob")
    ck_ok(alice_dir, "sync")

    alice = chat(alice_dir, "bob")
    bob = chat(bob_dir, "alice")
    try:
        alice.expect_exact("Chat with bob (you are alice")
        alice.expect_exact("bob: earlier, from bob")  # recent history first
        alice.expect_exact("bob> ")
        bob.expect_exact("alice> ")

        alice.sendline("hello bob")
        bob.expect_exact("alice: hello bob")  # printed live by bob's long poll
        bob.sendline("hi alice")
        alice.expect_exact("bob: hi alice")

        ck_ok(carol_dir, "send", "alice", "psst, from carol")
        alice.expect_exact("carol (chat with carol): psst, from carol")  # from anyone, marked as another chat

        alice.sendline("-q")
        alice.expect_exact("Chat with (Enter or Ctrl-D to end): ")
        alice.sendline("carol")
        alice.expect_exact("Chat with carol (you are alice")
        alice.expect_exact("carol: psst, from carol")
        alice.expect_exact("carol> ")
        alice.sendline("/quit")
        alice.expect(pexpect.EOF)
        alice.close()
        assert alice.exitstatus == 0

        bob.sendeof()  # Ctrl-D
        bob.expect(pexpect.EOF)
        bob.close()
        assert bob.exitstatus == 0
    finally:
        alice.close(force=True)
        bob.close(force=True)

    assert bodies(bob_dir, "alice") == ["earlier, from bob", "hello bob", "hi alice"]
    assert unread(alice_dir, "bob") == 0  # shown in the chat means read
    assert unread(alice_dir, "carol") == 0  # shown as history when alice switched to carol
    assert unread(bob_dir, "alice") == 0


def test_lines_typed_while_the_server_is_down_are_sent_when_it_returns(pair, live_server):
    alice_dir, bob_dir = pair["alice"], pair["bob"]
    alice = chat(alice_dir, "bob")
    try:
        alice.expect_exact("bob> ")
        live_server.kill()
        alice.sendline("typed during the outage")
        alice.expect_exact("kept in the outbox")
        assert bodies(alice_dir, "bob") == ["typed during the outage"]  # stored before any network call
        live_server.start()
        wanted = ["(connected again)", "(delivered to bob: typed during the outage)"]
        seen = set()
        while len(seen) < 2:  # the receiver's reconnect and the sender's retry race; either may be first
            seen.add(alice.expect_exact(wanted))
        alice.sendline("/quit")
        alice.expect(pexpect.EOF)
        alice.close()
        assert alice.exitstatus == 0
    finally:
        alice.close(force=True)
    ck_ok(bob_dir, "sync")
    ck_ok(bob_dir, "sync")
    assert bodies(bob_dir, "alice") == ["typed during the outage"]


def test_sync_watch_prints_messages_as_they_arrive_until_ctrl_c(pair):
    alice_dir, bob_dir = pair["alice"], pair["bob"]
    env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1")
    watch = pexpect.spawn(sys.executable, ["-m", "chatkit_cli", "--data-dir", str(bob_dir), "sync", "--watch"],
                          env=env, encoding="utf-8", timeout=TIMEOUT)
    try:
        watch.expect_exact("Watching for messages to bob")
        ck_ok(alice_dir, "send", "bob", "are you watching?")
        watch.expect_exact("alice: are you watching?")
        watch.sendintr()  # Ctrl-C
        watch.expect_exact("Stopped.")
        watch.expect(pexpect.EOF)
        watch.close()
        assert watch.exitstatus == 0
    finally:
        watch.close(force=True)
    assert bodies(bob_dir, "alice") == ["are you watching?"]


def test_chat_with_a_revoked_session_ends_with_exit_3(pair, tmp_path):
    alice_dir = pair["alice"]
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "session.json").write_text((alice_dir / "session.json").read_text())
    ck_ok(twin, "logout")  # revokes the token alice's data dir still holds
    alice = chat(alice_dir, "bob")
    try:
        alice.expect_exact("run chatkit login")
        alice.expect(pexpect.EOF)
        alice.close()
        assert alice.exitstatus == 3
        assert "Traceback" not in alice.before
    finally:
        alice.close(force=True)
