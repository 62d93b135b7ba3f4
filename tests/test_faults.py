"""Faults: crashes, a full disk, damaged or busy local files, and wrong clocks.

Everything here runs real processes: `chatkit server` (fixtures_server's
LiveServer) and the `chatkit` CLI, so what is proven is what people run.
(Set-up logins go over HTTP and save session.json with the library, to
spend the time on the commands under test.)

- The server SIGKILLed in the middle of mixed writes (sends, acknowledging
  fetches, logins): the file left behind passes `PRAGMA integrity_check`
  before and after the restart, and every 201 is delivered exactly once.
- The client SIGKILLed at each step of a delivery (CHATKIT_TEST_FAULT, the
  hooks in chatkit/client/sync.py): after the outbox write but before the
  network call, after the server's reply but before the local commit, and on
  the receiving side after the fetch and inside the storing transaction.
  After `chatkit sync`: nothing lost, nothing doubled, on either side.
- The server's disk fills up (a real size-limited filesystem: a 4 MiB tmpfs
  mounted for the test — the machine allows it, we are root — or, where
  mounting is not permitted, a per-file size limit set on the server process
  with prlimit(RLIMIT_FSIZE)): sends get 503 JSON with Retry-After, reads keep
  working, nothing is corrupted, and the server recovers when space returns.
  A read-only database is simulated in-process by injecting SQLite's own
  `sqlite3.OperationalError("attempt to write a readonly database")`.
- client.db corrupt, locked by another process beyond the busy timeout, or
  written by a newer chatkit: every command says so in one line naming the
  file and what to do, exits 1, and the file is left exactly as it was.
- Clock skew: a sender an hour ahead or behind does not reorder or hide
  messages in the recipient's archive (chatkit.client.sync.placed_at).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from fixtures_server import LiveServer

pytestmark = pytest.mark.slow

PASSWORD = "faults-pass-1"


def cli(data_dir, *args, input=None, env=None, timeout=60):
    full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), *map(str, args)],
                          input=input, capture_output=True, text=True, timeout=timeout, env=full_env)


def cli_ok(data_dir, *args, **kwargs):
    result = cli(data_dir, *args, **kwargs)
    assert result.returncode == 0, (args, result.returncode, result.stderr)
    return result


def cli_login(data_dir, name, url):
    """Set-up only: log in over HTTP and save the session as `chatkit login` would (fewer processes)."""
    from chatkit.client.session import save_session

    token = api_login(url, name)["Authorization"].split()[1]
    save_session(data_dir, url, name, token)


def api_login(url, name):
    reply = httpx.post(url + "/api/login", json={"username": name, "password": PASSWORD}, timeout=30)
    assert reply.status_code in (200, 201), reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def post(url, headers, mid, body, to="bob", sent_at=None, timeout=30):
    return httpx.post(url + "/api/messages", headers=headers, timeout=timeout, json={
        "id": mid, "to": to, "body": body, "sent_at": sent_at or iso(datetime.now(timezone.utc))})


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def integrity(db_path) -> str:
    return rows(db_path, "PRAGMA integrity_check")[0][0]


def read_inbox(url, headers):
    """Every undelivered message for the caller, without acknowledging any (after stays 0)."""
    reply = httpx.get(url + "/api/messages?after=0", headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["messages"]


def history(data_dir, peer):
    return json.loads(cli_ok(data_dir, "history", peer, "--json", "--limit", "1000").stdout)


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --- 1. the server killed mid-write ---------------------------------------------------

def test_server_killed_during_mixed_writes_leaves_a_sound_file(live_server):
    """SIGKILL while sends, acknowledging long polls and logins are all writing."""
    url = live_server.url
    alice, bob = api_login(url, "alice"), api_login(url, "bob")
    acked, unknown, stop = set(), set(), threading.Event()
    lock = threading.Lock()

    def send(n):
        with httpx.Client(base_url=url, headers=alice, timeout=5) as http:
            while not stop.is_set():
                mid = str(uuid.uuid4())
                with lock:
                    unknown.add(mid)
                try:
                    reply = http.post("/api/messages", json={"id": mid, "to": "bob", "body": f"burst {n} {mid}",
                                                             "sent_at": "2026-12-04T10:00:00Z"})
                except httpx.HTTPError:
                    return
                if reply.status_code == 201:
                    with lock:
                        unknown.discard(mid)
                        acked.add(mid)

    def fetch_and_ack():  # bob reads as he goes: acknowledgements are writes too
        after = 0
        with httpx.Client(base_url=url, headers=bob, timeout=5) as http:
            while not stop.is_set():
                try:
                    page = http.get("/api/messages", params={"after": after, "wait": 1}).json()
                except (httpx.HTTPError, ValueError):
                    return
                confirmed.extend(seen)  # answered, so everything up to `after` is acknowledged
                seen[:] = [m["id"] for m in page["messages"]]
                got.extend(seen)
                after = page["next"]

    def logins():
        n = 0
        while not stop.is_set():
            n += 1
            try:
                httpx.post(url + "/api/login", json={"username": f"crowd{n % 7}", "password": PASSWORD}, timeout=5)
            except httpx.HTTPError:
                return

    got: list[str] = []  # every id bob was handed
    seen: list[str] = []  # the last page, not yet acknowledged
    confirmed: list[str] = []  # acknowledged by a request the server answered
    threads = ([threading.Thread(target=send, args=(n,)) for n in range(8)]
               + [threading.Thread(target=fetch_and_ack), threading.Thread(target=logins)])
    [t.start() for t in threads]
    deadline = time.monotonic() + 20
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    live_server.kill()
    stop.set()
    [t.join(15) for t in threads]
    assert len(acked) >= 40

    assert integrity(live_server.db_path) == "ok"  # the file as the crash left it (WAL recovered on open)
    assert rows(live_server.db_path, "PRAGMA foreign_key_check") == []
    live_server.start()
    again = [m["id"] for m in read_inbox(url, bob)]  # old tokens still work after the restart
    assert len(again) == len(set(again))
    assert not set(again) & set(confirmed), "an acknowledged message was handed out again"
    everything = set(got) | set(again)
    assert acked <= everything, f"{len(acked - everything)} acknowledged sends were lost"
    assert everything <= acked | unknown
    live_server.stop()
    assert integrity(live_server.db_path) == "ok"
    assert rows(live_server.db_path, "SELECT count(*) FROM (SELECT 1 FROM messages "
                                     "GROUP BY sender, uuid HAVING count(*) > 1)") == [(0,)]
    assert rows(live_server.db_path, "SELECT count(*) FROM messages")[0][0] == len(everything)


# --- 2. the client killed mid-delivery ------------------------------------------------

@pytest.fixture
def people(live_server, tmp_path):
    dirs = {name: tmp_path / name for name in ("alice", "bob")}
    for name, data in dirs.items():
        cli_login(data, name, live_server.url)
    return dirs


def server_rows(live_server, sql):
    return rows(live_server.db_path, sql)


@pytest.mark.parametrize("point", ["before_post", "after_post"])
def test_sender_killed_mid_send_loses_and_doubles_nothing(people, live_server, point):
    """Killed after the outbox write but before the network call, or after the server's reply
    but before the local commit: the next `sync` delivers it once and records it once."""
    alice, bob = people["alice"], people["bob"]
    killed = cli(alice, "send", "bob", f"killed at {point}", env={"CHATKIT_TEST_FAULT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    on_server = server_rows(live_server, "SELECT count(*) FROM messages")[0][0]
    assert on_server == (0 if point == "before_post" else 1)
    outbox = rows(alice / "client.db", "SELECT m.body, m.status FROM outbox o JOIN messages m ON m.id = o.message")
    assert outbox == [(f"killed at {point}", "pending")]  # kept: nothing a person typed is lost

    cli_ok(alice, "sync")
    cli_ok(alice, "sync")  # a second round changes nothing
    assert rows(alice / "client.db", "SELECT count(*) FROM outbox") == [(0,)]
    mine = history(alice, "bob")
    assert [(m["body"], m["status"]) for m in mine] == [(f"killed at {point}", "sent")]
    assert server_rows(live_server, "SELECT count(*) FROM messages") == [(1,)]
    cli_ok(bob, "sync")
    theirs = history(bob, "alice")
    assert [(m["id"], m["body"]) for m in theirs] == [(m["id"], m["body"]) for m in mine]


@pytest.mark.parametrize("point", ["after_fetch", "before_commit"])
def test_recipient_killed_mid_sync_loses_and_doubles_nothing(people, live_server, point):
    bob = people["bob"]
    alice = api_login(live_server.url, "alice")  # the sender's side is not under test here
    for n in range(3):
        assert post(live_server.url, alice, str(uuid.uuid4()), f"{point} {n}").status_code == 201
        time.sleep(0.01)
    killed = cli(bob, "sync", env={"CHATKIT_TEST_FAULT": point})
    assert killed.returncode == -signal.SIGKILL
    assert rows(bob / "client.db", "SELECT count(*) FROM messages") == [(0,)]
    assert server_rows(live_server, "SELECT count(*) FROM messages WHERE body IS NOT NULL") == [(3,)]
    cli_ok(bob, "sync")
    cli_ok(bob, "sync")
    assert [m["body"] for m in history(bob, "alice")] == [f"{point} {n}" for n in range(3)]
    assert server_rows(live_server, "SELECT count(*) FROM messages WHERE body IS NOT NULL") == [(0,)]
    assert rows(bob / "client.db", "SELECT message_count, unread_count FROM conversations") == [(3, 0)]


# --- 3. the server's disk fills up ------------------------------------------------------

@contextmanager
def small_disk(where: Path, size="4m", enabled=True):
    """A size-limited filesystem at `where` (tmpfs), or None where mounting is not permitted."""
    where.mkdir(parents=True, exist_ok=True)
    if not enabled:
        yield None
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(directory: Path) -> Path:
    """Write a filler file until the filesystem is full; returns it (delete it to free the space)."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno in (errno.ENOSPC, errno.EFBIG), exc
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


class FsizeLimited(LiveServer):
    """Fallback where mounting is not permitted: the server may not grow any file past `limit`."""

    def set_limit(self, limit):
        resource.prlimit(self.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # soft only

    def lift_limit(self):
        resource.prlimit(self.proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


@pytest.mark.parametrize("limit", ["tmpfs", "file-size"])
def test_a_full_disk_means_503_for_writes_reads_keep_working_and_it_recovers(tmp_path, limit):
    """`tmpfs`: a 4 MiB filesystem filled up (ENOSPC: "database or disk is full"); where
    mounting is not permitted it falls back to `file-size`: RLIMIT_FSIZE on the server process
    (EFBIG: "disk I/O error"), which needs no privileges."""
    with small_disk(tmp_path / "small", enabled=limit == "tmpfs") as mount:
        data = (mount or tmp_path) / "data"
        server = FsizeLimited(data)
        server.log_path = tmp_path / "server.log"  # the log must not need the full disk
        server.start()
        try:
            _full_disk_scenario(server, mount)
        finally:
            server.stop()
    assert "Traceback" not in server.log_text()
    assert "storage trouble" in server.log_text()


def _full_disk_scenario(server, mount):
    url = server.url
    alice, bob = api_login(url, "alice"), api_login(url, "bob")
    before = [str(uuid.uuid4()) for _ in range(3)]
    for mid in before:
        assert post(url, alice, mid, "before the disk filled up").status_code == 201
    # bob's session was last seen long ago, so his next request wants to record that (a write)
    rows_changed = sqlite3.connect(server.db_path)
    with rows_changed:
        rows_changed.execute("UPDATE sessions SET last_seen_at = '2026-01-01 00:00:00.000000'")
    rows_changed.close()

    if mount is not None:
        filler = fill(mount)
    else:
        filler = None
        server.set_limit(max(os.path.getsize(server.db_path), os.path.getsize(str(server.db_path) + "-wal")))

    statuses, refused = [], []
    big, stamp = "x" * 10_000, "2026-12-04T10:00:00Z"
    for _ in range(300):
        mid = str(uuid.uuid4())
        reply = post(url, alice, mid, big, sent_at=stamp)
        statuses.append(reply.status_code)
        if reply.status_code == 503:
            refused.append(mid)
            assert reply.headers["content-type"].startswith("application/json")
            assert int(reply.headers["Retry-After"]) > 0
            assert set(reply.json()["error"]) == {"code", "message"}
            if len(refused) >= 3:
                break
    assert set(statuses) <= {201, 503}, statuses
    assert len(refused) >= 3, f"the disk never filled up: {statuses}"

    # reads keep working: health, users, bob's inbox (even though his session wants a touch)
    assert httpx.get(url + "/api/health").status_code == 200
    assert httpx.get(url + "/api/users", headers=bob).status_code == 200
    inbox = read_inbox(url, bob)
    assert {m["id"] for m in inbox} >= set(before)
    reply = httpx.get(url + f"/api/messages?after={inbox[0]['seq']}", headers=bob)  # acknowledging needs a write
    assert reply.status_code in (200, 503), reply.text
    login = httpx.post(url + "/api/login", json={"username": "carol", "password": PASSWORD})
    assert login.status_code in (201, 503), login.text  # never a 500
    assert integrity(server.db_path) == "ok"

    # space returns: the refused sends, retried with their ids, are stored once
    if filler is not None:
        filler.unlink()
    else:
        server.lift_limit()
    for mid in refused:
        assert post(url, alice, mid, big, sent_at=stamp).status_code == 201
        assert post(url, alice, mid, big, sent_at=stamp).status_code == 200
    ids = [m["id"] for m in read_inbox(url, bob)]
    assert len(ids) == len(set(ids))
    assert set(refused) <= set(ids)
    assert integrity(server.db_path) == "ok"


def test_a_read_only_database_means_503_for_writes_and_reads_keep_working(app, client):
    """In-process, with SQLite's own error injected into every write transaction."""
    from fixtures_server import bearer, login

    alice, bob = login(client, "alice"), login(client, "bob")
    assert client.post("/api/messages", headers=bearer(alice), json={
        "id": str(uuid.uuid4()), "to": "bob", "body": "stored", "sent_at": "2026-12-04T10:00:00Z"}).status_code == 201
    store = app.extensions["chatkit"].store
    real_run = store.run

    def read_only_run(fn, *args, write=False, **kwargs):
        if write:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_run(fn, *args, write=write, **kwargs)

    store.run = read_only_run
    try:
        reply = client.post("/api/messages", headers=bearer(alice), json={
            "id": str(uuid.uuid4()), "to": "bob", "body": "refused", "sent_at": "2026-12-04T10:00:00Z"})
        assert reply.status_code == 503 and reply.headers["Retry-After"]
        assert set(reply.get_json()["error"]) == {"code", "message"}
        page = client.get("/api/messages?after=0", headers=bearer(bob))
        assert page.status_code == 200 and [m["body"] for m in page.get_json()["messages"]] == ["stored"]
        seq = page.get_json()["next"]
        acked = client.get(f"/api/messages?after={seq}", headers=bearer(bob))
        assert acked.status_code == 200, acked.get_json()  # the acknowledgement waits for the disk
        assert client.get("/api/users", headers=bearer(bob)).status_code == 200
    finally:
        store.run = real_run
    assert client.get(f"/api/messages?after={seq}", headers=bearer(bob)).status_code == 200


# --- 4. client.db damaged, busy or too new -----------------------------------------------

COMMANDS = [("conversations",), ("history", "bob"), ("day", "2026-12-04"), ("search", "hello"),
            ("export",), ("send", "bob", "typed while the file was bad"), ("sync",),
            ("backup", "--to", "{tmp}/copy.db")]


@pytest.fixture
def archive(live_server, tmp_path):
    """alice's data dir with a real client.db holding a conversation, and a session."""
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    cli_login(alice, "alice", live_server.url)
    cli_login(bob, "bob", live_server.url)
    cli_ok(alice, "send", "bob", "hello bob")
    assert post(live_server.url, api_login(live_server.url, "bob"), str(uuid.uuid4()), "hello alice",
                to="alice").status_code == 201
    cli_ok(alice, "sync")
    return alice


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_all(data_dir, tmp_path):
    commands = [[part.format(tmp=tmp_path) for part in command] for command in COMMANDS]
    with ThreadPoolExecutor(4) as pool:
        return list(zip(commands, pool.map(lambda c: cli(data_dir, *c, timeout=90), commands)))


def checkpoint(db: Path):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "newer"])
def test_a_bad_client_db_is_named_with_a_way_out_and_left_alone(archive, tmp_path, damage):
    db = archive / "client.db"
    checkpoint(db)
    if damage == "garbage":
        db.write_bytes(os.urandom(64 * 1024))
        expected = ("is not a usable chatkit database", "chatkit restore")
    elif damage == "truncated":
        content = db.read_bytes()
        db.write_bytes(content[:4096] + b"\x13" * 4096 + content[8192:12288])
        expected = ("is not a usable chatkit database", "chatkit restore")
    else:
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA user_version = 99")
        conn.close()
        expected = ("was written by a newer chatkit", "upgrade chatkit")
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    before = digest(db)
    for command, result in run_all(archive, tmp_path):
        if damage == "newer" and command[0] == "backup":
            assert result.returncode == 0, result.stderr  # a byte-exact copy is harmless, and restore checks
            (tmp_path / "copy.db").unlink()
            continue
        assert result.returncode != 0, (command, result.stdout)
        line = one_line_error(result)
        assert result.returncode == 1, (command, result.returncode, line)
        assert str(db) in line, (command, line)
        assert all(part in line for part in expected), (command, line)
    assert digest(db) == before, "the damaged file was changed"
    assert not (tmp_path / "copy.db").exists()


def hold_lock(db: Path, exclusive: bool):
    code = ("import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
            + ("c.execute('PRAGMA locking_mode = EXCLUSIVE')\n" if exclusive else "")
            + "c.execute('BEGIN IMMEDIATE')\n"
            "c.execute(\"UPDATE messages SET status = status\")\n"
            + ("c.execute('COMMIT'); c.execute('BEGIN IMMEDIATE')\n" if exclusive else "")
            + "print('locked', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.mark.parametrize("exclusive", [False, True], ids=["writer", "exclusive"])
def test_a_client_db_locked_by_another_process_is_named_and_left_alone(archive, tmp_path, exclusive):
    """Another program holds client.db longer than the 5 s busy timeout.

    A plain writer (BEGIN IMMEDIATE) blocks only writes: reads go on (WAL).
    `locking_mode = EXCLUSIVE` (what some database browsers do) blocks reads too.
    """
    db = archive / "client.db"
    before = rows(db, "SELECT id, body, status FROM messages ORDER BY id")
    holder = hold_lock(db, exclusive)
    try:
        sent = cli(archive, "send", "bob", "typed while locked", timeout=90)
        assert sent.returncode == 1, sent.stderr
        line = one_line_error(sent)
        assert str(db) in line and "is locked by another program" in line, line
        listing = cli(archive, "conversations", "--json", timeout=90)
        if exclusive:
            assert listing.returncode == 1
            line = one_line_error(listing)
            assert str(db) in line and "is locked by another program" in line, line
        else:
            assert listing.returncode == 0, listing.stderr
            assert json.loads(listing.stdout)[0]["peer"] == "bob"
    finally:
        holder.kill()
        holder.wait()
    assert rows(db, "SELECT id, body, status FROM messages ORDER BY id") == before
    assert integrity(db) == "ok"
    cli_ok(archive, "send", "bob", "typed after the lock went away")


# --- 5. clock skew -----------------------------------------------------------------------

@pytest.mark.parametrize("skew", [timedelta(hours=1), -timedelta(hours=1)], ids=["ahead", "behind"])
def test_a_skewed_sender_clock_does_not_reorder_or_hide_messages(people, live_server, skew):
    """Rule (chatkit.client.sync.placed_at): an incoming message keeps the sender's sent_at only
    if it lies within two minutes before the server's received_at; otherwise it is placed at
    received_at, where it arrived."""
    bob = people["bob"]
    url = live_server.url
    carol = api_login(url, "carol")  # carol's clock is wrong by `skew`
    alice_api = api_login(url, "alice")  # alice's clock is right; bob's archive is what is checked
    assert post(url, alice_api, str(uuid.uuid4()), "1 alice: question?").status_code == 201
    time.sleep(0.05)
    for n in range(2, 5):
        assert post(url, carol, str(uuid.uuid4()), f"{n} carol: answer",
                    sent_at=iso(datetime.now(timezone.utc) + skew)).status_code == 201
        time.sleep(0.05)
    assert post(url, alice_api, str(uuid.uuid4()), "5 alice: thanks").status_code == 201
    cli_ok(bob, "sync")

    day = json.loads(cli_ok(bob, "day", datetime.now(timezone.utc).strftime("%Y-%m-%d"), "--tz", "UTC",
                            "--json").stdout)
    assert [m["body"][0] for m in day] == list("12345"), [m["body"] for m in day]
    latest = json.loads(cli_ok(bob, "history", "carol", "--limit", "1", "--json").stdout)
    assert latest[0]["body"] == "4 carol: answer"
    conversations = json.loads(cli_ok(bob, "conversations", "--json").stdout)
    assert [c["peer"] for c in conversations] == ["alice", "carol"]  # alice wrote last, not carol's future
    now = datetime.now(timezone.utc)
    for m in day:
        assert datetime.fromisoformat(m["sent_at"].replace("Z", "+00:00")) <= now
