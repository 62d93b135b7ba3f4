"""deliver / pull / sync against the real Flask app in-process: order, idempotency, the cursor."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import httpx
import pytest

from chatkit.client import outbox, sync
from chatkit.client.session import Session
from chatkit.client.transport import Api
from chatkit.errors import ServerUnreachable, UnknownUser
from chatkit.timefmt import utcnow
from delivery_support import Switchboard
from fixtures_server import login as server_login

URL = "http://chatkit.test"


@pytest.fixture
def board(app):
    return Switchboard(httpx.WSGITransport(app=app))


@pytest.fixture
def api_for(client, board):
    def make(name):
        return Api(URL, server_login(client, name), transport=board)
    return make


def rows(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_deliver_stops_at_network_trouble_and_leaves_the_rest_untouched(client_store, api_for, board):
    alice = api_for("alice")
    api_for("bob")
    for body in ("one", "two", "three"):
        outbox.record_outgoing(client_store, "alice", "bob", body)
    board.mode = "down"
    report = sync.deliver(client_store, alice, "alice")
    assert isinstance(report.error, ServerUnreachable)
    assert [(e["body"], e["attempts"]) for e in report.waiting] == [("one", 1), ("two", 0), ("three", 0)]
    assert board.requests == [("POST", "/api/messages")]  # one refused connection is enough to know


def test_one_refused_entry_never_blocks_the_others(client_store, api_for):
    alice = api_for("alice")
    api_for("bob")
    outbox.record_outgoing(client_store, "alice", "nobody", "lost")
    outbox.record_outgoing(client_store, "alice", "bob", "arrives")
    report = sync.deliver(client_store, alice, "alice")
    assert [e["body"] for e in report.delivered] == ["arrives"]
    [failed] = report.failed
    assert isinstance(failed["error"], UnknownUser) and failed["state"] == "failed"
    assert report.error is None and report.waiting == []


def test_due_only_keeps_the_order_behind_a_backed_off_entry(client_store, api_for, board):
    alice = api_for("alice")
    api_for("bob")
    first = outbox.record_outgoing(client_store, "alice", "bob", "first")
    outbox.mark_retry(client_store, first["message_id"], "refused")  # backed off for 2 s
    outbox.record_outgoing(client_store, "alice", "bob", "second")  # due now
    report = sync.deliver(client_store, alice, "alice", due_only=True)
    assert report.delivered == [] and [e["body"] for e in report.waiting] == ["first", "second"]
    later = sync.deliver(client_store, alice, "alice", due_only=True, now=utcnow() + timedelta(seconds=3))
    assert [e["body"] for e in later.delivered] == ["first", "second"]


def test_pull_is_idempotent_and_moves_the_cursor_with_the_rows(client_store, api_for, app, monkeypatch):
    import chatkit.server.relay as relay_module

    monkeypatch.setattr(relay_module, "PAGE", 2)  # several pages, cheaply
    bob, alice = api_for("bob"), api_for("alice")
    for n in range(5):
        bob.post_message(f"00000000-0000-4000-8000-00000000000{n}", "alice", f"m{n}", "2026-12-04T10:00:00Z")
    batches = []
    got = sync.pull(client_store, alice, "alice", URL, on_batch=batches.append)
    assert [m["body"] for m in got] == ["m0", "m1", "m2", "m3", "m4"]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert all(m["status"] == "unread" and m["direction"] == "in" and m["peer"] == "bob" for m in got)
    assert rows(client_store.path, "SELECT cursor FROM sync_state") == [(5,)]
    assert sync.pull(client_store, alice, "alice", URL) == []
    # The same page again (a lost cursor, a restored backup) stores nothing twice.
    page = alice.get_messages(after=0)
    assert sync.store_incoming(client_store, "alice", URL, page["messages"], 5) == []
    assert rows(client_store.path, "SELECT count(*), sum(status = 'unread') FROM messages") == [(5, 5)]
    assert rows(client_store.path, "SELECT unread_count FROM conversations") == [(5,)]
    db = app.config["DATABASE"]
    assert rows(db, "SELECT count(*) FROM messages WHERE body IS NOT NULL") == [(0,)]  # all acknowledged


def test_a_failure_before_commit_stores_nothing_and_keeps_the_cursor(client_store, api_for, monkeypatch):
    bob, alice = api_for("bob"), api_for("alice")
    bob.post_message("00000000-0000-4000-8000-000000000001", "alice", "hello", "2026-12-04T10:00:00Z")

    def crash(point):
        if point == "before_commit":
            raise RuntimeError("power cut")

    monkeypatch.setattr(sync, "_fault", crash)
    with pytest.raises(RuntimeError):
        sync.pull(client_store, alice, "alice", URL)
    assert rows(client_store.path, "SELECT count(*) FROM messages") == [(0,)]
    assert rows(client_store.path, "SELECT count(*) FROM sync_state") == [(0,)]
    monkeypatch.undo()
    assert [m["body"] for m in sync.pull(client_store, alice, "alice", URL)] == ["hello"]


def test_sync_delivers_then_pulls(client_store, api_for, board):
    alice, bob = api_for("alice"), api_for("bob")
    bob.post_message("00000000-0000-4000-8000-000000000001", "alice", "ping", "2026-12-04T10:00:00Z")
    outbox.record_outgoing(client_store, "alice", "bob", "pong")
    report = sync.sync(client_store, alice, Session(URL, "alice", alice.token))
    assert [e["body"] for e in report.delivery.delivered] == ["pong"]
    assert [m["body"] for m in report.received] == ["ping"]
    board.mode = "down"
    outbox.record_outgoing(client_store, "alice", "bob", "later")
    report = sync.sync(client_store, alice, Session(URL, "alice", alice.token))
    assert isinstance(report.pull_error, ServerUnreachable) and report.received == []
    assert board.requests[-1] == ("POST", "/api/messages")  # no pull attempted once the server is known down


def test_incoming_name_follows_the_spelling_in_the_archive(client_store, api_for):
    alice, bob = api_for("alice"), api_for("Bob")
    outbox.record_outgoing(client_store, "alice", "bob", "hi bob")
    sync.deliver(client_store, alice, "alice")
    bob.post_message("00000000-0000-4000-8000-000000000001", "alice", "hi alice", "2026-12-04T10:00:00Z")
    [got] = sync.pull(client_store, alice, "alice", URL)
    assert (got["sender"], got["peer"]) == ("Bob", "bob")
    assert rows(client_store.path, "SELECT peer, message_count FROM conversations") == [("bob", 2)]


def test_mark_read_updates_unread_counts(client_store, api_for):
    bob, alice = api_for("bob"), api_for("alice")
    bob.post_message("00000000-0000-4000-8000-000000000001", "alice", "x", "2026-12-04T10:00:00Z")
    [got] = sync.pull(client_store, alice, "alice", URL)
    assert sync.mark_read(client_store, "alice", [got["message_id"]]) == 1
    assert sync.mark_read(client_store, "someone-else", [got["message_id"]]) == 0
    assert rows(client_store.path, "SELECT status FROM messages") == [("read",)]
    assert rows(client_store.path, "SELECT unread_count FROM conversations") == [(0,)]
