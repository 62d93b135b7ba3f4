"""Commands that behave differently on a terminal: `outbox drop` asks there (pexpect)."""

from __future__ import annotations

import os
import sqlite3
import sys

import pexpect
import pytest

from fixtures_client import login_as


@pytest.fixture
def waiting(isolated_data_dir):
    """alice's data dir with one message waiting in the outbox (no server needed)."""
    from chatkit.client.outbox import record_outgoing
    from chatkit.client.store import open_client_store

    login_as(isolated_data_dir, "alice")
    store = open_client_store(isolated_data_dir / "client.db")
    entry = record_outgoing(store, "alice", "bob", "maybe not")
    store.close()
    return isolated_data_dir, entry["uuid"]


def drop(data_dir, ident):
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    return pexpect.spawn(sys.executable, ["-m", "chatkit_cli", "--data-dir", str(data_dir), "outbox", "drop", ident],
                         env=env, encoding="utf-8", timeout=60)


def outbox_count(data_dir):
    conn = sqlite3.connect(data_dir / "client.db")
    try:
        return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("answer, code, said, left", [
    ("n", 1, "Nothing dropped.", 1),
    ("y", 0, "Dropped the message to bob", 0),
])
def test_drop_asks_on_a_terminal(waiting, answer, code, said, left):
    data_dir, uuid = waiting
    child = drop(data_dir, uuid[:8])
    try:
        child.expect_exact("Drop the message to bob ('maybe not')? It will never be sent. [y/N]: ")
        child.sendline(answer)
        child.expect_exact(said)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == code
    finally:
        child.close(force=True)
    assert outbox_count(data_dir) == left
