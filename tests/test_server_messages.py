"""POST and GET /api/messages through the Flask test client."""

import sqlite3
import threading
import time
import uuid

import pytest

from fixtures_server import bearer, login


def message(to="bob", body="hello", **extra):
    return {"id": str(uuid.uuid4()), "to": to, "body": body, "sent_at": "2026-12-04T10:00:00Z", **extra}


@pytest.fixture
def people(client):
    return {name: bearer(login(client, name)) for name in ("alice", "bob", "carol")}


def send(client, who, msg):
    return client.post("/api/messages", json=msg, headers=who)


def fetch(client, who, query="after=0"):
    return client.get(f"/api/messages?{query}", headers=who)


def test_send_is_201_with_id_seq_received_at(client, people):
    msg = message()
    reply = send(client, people["alice"], msg)
    assert reply.status_code == 201
    body = reply.get_json()
    assert set(body) == {"id", "seq", "received_at"}
    assert body["id"] == msg["id"] and body["seq"] == 1 and body["received_at"].endswith("Z")


def test_repeat_is_200_with_the_same_reply_and_no_second_row(client, people, app):
    msg = message()
    first = send(client, people["alice"], msg).get_json()
    again = send(client, people["alice"], msg)
    assert again.status_code == 200 and again.get_json() == first
    # even after delivery erased the body, a retry is recognised
    fetch(client, people["bob"], f"after={first['seq']}")
    assert send(client, people["alice"], msg).get_json() == first
    assert sqlite3.connect(app.config["DATABASE"]).execute("select count(*) from messages").fetchone() == (1,)


@pytest.mark.parametrize("change", [{"body": "other"}, {"to": "carol"}, {"sent_at": "2026-12-04T10:00:01Z"}])
def test_same_id_other_content_is_409(client, people, change):
    msg = message()
    send(client, people["alice"], msg)
    reply = send(client, people["alice"], {**msg, **change})
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "conflict"


def test_same_id_from_another_sender_is_another_message(client, people):
    msg = message(to="carol")
    assert send(client, people["alice"], msg).status_code == 201
    assert send(client, people["bob"], msg).status_code == 201
    assert len(fetch(client, people["carol"]).get_json()["messages"]) == 2


def test_same_moment_in_another_offset_is_the_same_content(client, people):
    msg = message()
    first = send(client, people["alice"], msg).get_json()
    again = send(client, people["alice"], {**msg, "sent_at": "2026-12-04T11:00:00+01:00"})
    assert again.status_code == 200 and again.get_json() == first


def test_unknown_recipient_is_404(client, people):
    reply = send(client, people["alice"], message(to="nobody"))
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "unknown_user"


def test_recipient_matched_case_insensitively(client, people):
    assert send(client, people["alice"], message(to="BOB")).status_code == 201
    got = fetch(client, people["bob"]).get_json()["messages"]
    assert got[0]["to"] == "bob" and got[0]["from"] == "alice"


def test_fetch_returns_incoming_oldest_first_with_next_cursor(client, people):
    sent = [send(client, people["alice"], message(body=f"m{i}")).get_json() for i in range(3)]
    send(client, people["bob"], message(to="alice", body="not for bob"))
    reply = fetch(client, people["bob"])
    assert reply.status_code == 200
    body = reply.get_json()
    assert [m["body"] for m in body["messages"]] == ["m0", "m1", "m2"]
    assert body["next"] == sent[-1]["seq"]
    first = body["messages"][0]
    assert set(first) == {"id", "seq", "from", "to", "body", "sent_at", "received_at"}
    assert first["sent_at"] == "2026-12-04T10:00:00Z"
    assert fetch(client, people["bob"], f"after={sent[0]['seq']}").get_json()["messages"][0]["body"] == "m1"


def test_empty_fetch_keeps_the_cursor(client, people):
    assert fetch(client, people["bob"], "after=7").get_json() == {"messages": [], "next": 7}


def test_after_n_acknowledges_and_erases_bodies(client, people, app):
    seqs = [send(client, people["alice"], message(body=f"m{i}")).get_json()["seq"] for i in range(3)]
    fetch(client, people["bob"], f"after={seqs[1]}")
    rows = sqlite3.connect(app.config["DATABASE"]).execute(
        "select seq, body, delivered_at from messages order by seq").fetchall()
    assert rows[0][1] is None and rows[1][1] is None and rows[0][2] and rows[1][2]
    assert rows[2][1] == "m2" and rows[2][2] is None
    # acknowledged messages are not offered again
    assert [m["body"] for m in fetch(client, people["bob"]).get_json()["messages"]] == ["m2"]


def test_at_most_500_per_page(client, people, app):
    srv = app.extensions["chatkit"]
    import chatkit.timefmt as tf
    from pony.orm import db_session
    with db_session:
        alice, bob = srv.store.User.get(username="alice"), srv.store.User.get(username="bob")
        for i in range(505):
            srv.store.Message(uuid=str(uuid.uuid4()), sender=alice, recipient=bob, sent_at=tf.utcnow(),
                              received_at=tf.utcnow(), body=f"b{i}", digest="x" * 64)
    page = fetch(client, people["bob"]).get_json()
    assert len(page["messages"]) == 500 and page["next"] == 500
    rest = fetch(client, people["bob"], f"after={page['next']}").get_json()
    assert len(rest["messages"]) == 5 and rest["next"] == 505


def test_no_one_reads_another_persons_messages(client, people):
    send(client, people["alice"], message(to="bob", body="secret"))
    for who in ("alice", "carol"):
        assert fetch(client, people[who]).get_json()["messages"] == []
    # carol acknowledging a large cursor does not touch bob's messages
    fetch(client, people["carol"], "after=1000")
    assert fetch(client, people["bob"]).get_json()["messages"][0]["body"] == "secret"


def test_long_poll_returns_when_a_message_arrives(client, people, app):
    result = {}

    def poll():
        reply = app.test_client().get("/api/messages?after=0&wait=10", headers=people["bob"])
        result["at"] = time.monotonic()
        result["body"] = reply.get_json()

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    sent_at = time.monotonic()
    send(client, people["alice"], message(body="ping"))
    t.join(5)
    assert result["body"]["messages"][0]["body"] == "ping"
    assert result["at"] - sent_at < 0.5


def test_long_poll_times_out_empty(client, people):
    start = time.monotonic()
    reply = fetch(client, people["bob"], "after=0&wait=1")
    assert reply.get_json() == {"messages": [], "next": 0}
    assert 0.9 <= time.monotonic() - start < 3


def test_long_poll_sees_rows_written_by_another_process(client, people, app):
    """The watcher re-checks the database, so a send through another app wakes the poll."""
    from chatkit.server import create_app
    from chatkit.server.passwords import FAST_PARAMS
    other = create_app({"DATABASE": app.config["DATABASE"], "ARGON2": FAST_PARAMS, "TESTING": True})
    try:
        result = {}
        t = threading.Thread(target=lambda: result.update(
            r=app.test_client().get("/api/messages?after=0&wait=10", headers=people["bob"]).get_json(),
            at=time.monotonic()))
        t.start()
        time.sleep(0.3)
        start = time.monotonic()
        assert send(other.test_client(), people["alice"], message(body="via other")).status_code == 201
        t.join(5)
        assert result["r"]["messages"][0]["body"] == "via other"
        assert result["at"] - start < 1.5
    finally:
        other.extensions["chatkit"].close()


def test_long_polls_beyond_the_slots_get_503_busy(tmp_path):
    from chatkit.server import create_app
    from chatkit.server.passwords import FAST_PARAMS
    app = create_app({"DATABASE": str(tmp_path / "s.db"), "ARGON2": FAST_PARAMS, "POLL_SLOTS": 1})
    try:
        who = bearer(login(app.test_client(), "bob"))
        t = threading.Thread(target=lambda: app.test_client().get("/api/messages?wait=2", headers=who))
        t.start()
        time.sleep(0.3)
        reply = app.test_client().get("/api/messages?wait=2", headers=who)
        assert reply.status_code == 503 and reply.get_json()["error"]["code"] == "busy"
        assert reply.headers["Retry-After"]
        assert app.test_client().get("/api/messages?wait=0", headers=who).status_code == 200
        t.join(5)
    finally:
        app.extensions["chatkit"].close()


def test_one_batch_with_repeats_and_conflicts(app, people):
    """The committer's batch form: a repeat inside one batch replays, other content conflicts."""
    from chatkit.errors import Conflict
    from chatkit.server import relay
    from chatkit.server.relay import Outgoing
    from chatkit import timefmt
    srv = app.extensions["chatkit"]
    ids = {n: srv.relay.recipient(n)[0] for n in ("alice", "bob", "carol")}
    when = timefmt.parse_iso("2026-12-04T10:00:00Z")
    same = Outgoing(id=str(uuid.uuid4()), to="bob", body="one", sent_at=when)
    other = Outgoing(id=same.id, to="bob", body="two", sent_at=when)
    fresh = Outgoing(id=str(uuid.uuid4()), to="carol", body="three", sent_at=when)
    jobs = [(srv.store, ids["alice"], ids["bob"], same, same.digest(ids["bob"], srv.relay.key)),
            (srv.store, ids["alice"], ids["bob"], same, same.digest(ids["bob"], srv.relay.key)),
            (srv.store, ids["alice"], ids["bob"], other, other.digest(ids["bob"], srv.relay.key)),
            (srv.store, ids["carol"], ids["bob"], same, same.digest(ids["bob"], srv.relay.key)),  # another sender
            (srv.store, ids["alice"], ids["carol"], fresh, fresh.digest(ids["carol"], srv.relay.key))]
    results = srv.store.run(relay._store_messages, srv.store, jobs, write=True)
    (first, created1), (again, created2), conflict, (by_carol, created4), (third, created5) = results
    assert created1 and not created2 and again == first
    assert isinstance(conflict, Conflict)
    assert created4 and by_carol["seq"] != first["seq"] and created5
    assert [m["body"] for m in fetch(app.test_client(), people["bob"]).get_json()["messages"]] == ["one", "one"]


def test_concurrent_sends_all_stored_once(app, people):
    """Many threads at once exercise batches through the real committer."""
    sent = [message(body=f"c{i}") for i in range(40)]
    replies = []

    def go(msg):
        c = app.test_client()
        replies.append((c.post("/api/messages", json=msg, headers=people["alice"]).status_code,
                        c.post("/api/messages", json=msg, headers=people["alice"]).status_code))

    threads = [threading.Thread(target=go, args=(m,)) for m in sent]
    [t.start() for t in threads]
    [t.join(20) for t in threads]
    assert sorted(replies) == [(201, 200)] * 40
    got = fetch(app.test_client(), people["bob"]).get_json()["messages"]
    assert sorted(m["body"] for m in got) == sorted(m["body"] for m in sent)


def test_one_account_cannot_hold_every_poll_slot(tmp_path):
    from chatkit.server import create_app
    from chatkit.server.passwords import FAST_PARAMS
    app = create_app({"DATABASE": str(tmp_path / "s.db"), "ARGON2": FAST_PARAMS, "POLLS_PER_USER": 2})
    try:
        bob, carol = bearer(login(app.test_client(), "bob")), bearer(login(app.test_client(), "carol"))
        threads = [threading.Thread(target=lambda: app.test_client().get("/api/messages?wait=2", headers=bob))
                   for _ in range(2)]
        [t.start() for t in threads]
        time.sleep(0.4)
        third = app.test_client().get("/api/messages?wait=2", headers=bob)
        assert third.status_code == 503 and third.get_json()["error"]["code"] == "busy"
        start = time.monotonic()
        assert app.test_client().get("/api/messages?wait=1", headers=carol).status_code == 200
        assert time.monotonic() - start >= 0.9  # carol still gets a real long poll
        [t.join(5) for t in threads]
    finally:
        app.extensions["chatkit"].close()
