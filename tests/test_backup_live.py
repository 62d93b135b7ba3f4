"""`chatkit backup` while real chatkit processes are writing.

tests/test_client_archive_backup.py already snapshots client.db under a raw
sqlite3 writer. What it does not cover, and this does:

- `chatkit backup --server` of server.db while a real `chatkit server` takes
  a burst of sends (WAL, synchronous=FULL, group commit): every copy is
  sound and holds every message acknowledged before the backup began;
  `chatkit restore` puts the last one into an empty data dir, and a server
  started on it serves those messages to tokens issued before the backup.
- `chatkit backup` of client.db while `chatkit sync --watch` stores incoming
  messages: every copy is sound, its `conversations` agree with its
  `messages`, and its full-text index holds every message.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest

from fixtures_server import LiveServer

pytestmark = pytest.mark.slow

PASSWORD = "backup-pass-1"


def cli(data_dir, *args, input=None, timeout=90):
    result = subprocess.run([sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), *map(str, args)],
                            input=input, capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, NO_COLOR="1"))
    assert result.returncode == 0, (args, result.stderr)
    return result


def api_login(url, name):
    reply = httpx.post(url + "/api/login", json={"username": name, "password": PASSWORD}, timeout=30)
    assert reply.status_code in (200, 201), reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def query(path, sql):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


class Burst:
    """Threads sending alice → bob until stopped; remembers when each send was acknowledged."""

    def __init__(self, url, headers, threads=4):
        self.url, self.headers = url, headers
        self.acked: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def _run(self, n):
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as http:
            while not self.stop.is_set():
                mid = str(uuid.uuid4())
                reply = http.post("/api/messages", json={"id": mid, "to": "bob", "body": f"burst {n} {mid}",
                                                         "sent_at": "2026-12-04T10:00:00Z"})
                if reply.status_code == 201:
                    with self.lock:
                        self.acked[mid] = time.monotonic()

    def acked_before(self, moment):
        with self.lock:
            return {mid for mid, at in self.acked.items() if at < moment}

    def __enter__(self):
        [t.start() for t in self.threads]
        return self

    def __exit__(self, *exc):
        self.stop.set()
        [t.join(30) for t in self.threads]


def test_server_backup_during_a_send_burst_restores_to_a_working_server(live_server, tmp_path):
    url = live_server.url
    alice, bob = api_login(url, "alice"), api_login(url, "bob")
    copies = []
    with Burst(url, alice) as burst:
        while len(burst.acked) < 30:
            time.sleep(0.05)
        for n in range(3):
            began = time.monotonic()
            target = tmp_path / f"server-copy-{n}.db"
            cli(live_server.data_dir, "backup", "--server", "--to", target)
            copies.append((target, burst.acked_before(began)))
            time.sleep(0.3)
        assert not burst.stop.is_set() and burst.threads[0].is_alive(), "the burst ran through every backup"
    sizes = []
    for target, acked in copies:
        assert query(target, "PRAGMA integrity_check") == [("ok",)]
        assert query(target, "PRAGMA journal_mode") == [("delete",)]
        stored = [row[0] for row in query(target, "SELECT uuid FROM messages")]
        assert len(stored) == len(set(stored))
        assert acked <= set(stored), f"{len(acked - set(stored))} acknowledged messages missing from the copy"
        sizes.append(len(stored))
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]

    last, _ = copies[-1]
    fresh = tmp_path / "restored"
    restored = cli(fresh, "restore", last)
    assert "Restored" in restored.stdout
    in_copy = {row[0] for row in query(last, "SELECT uuid FROM messages")}
    server = LiveServer(fresh).start()
    try:
        ids, after = [], 0
        while True:  # bob's token was issued before the backup; he reads every page
            page = httpx.get(server.url + "/api/messages", params={"after": after}, headers=bob, timeout=30).json()
            if not page["messages"]:
                break
            ids += [m["id"] for m in page["messages"]]
            after = page["next"]
        assert sorted(ids) == sorted(in_copy)
    finally:
        server.stop()


def test_client_backup_while_sync_watch_stores_messages(live_server, tmp_path):
    url = live_server.url
    alice, bob_dir = api_login(url, "alice"), tmp_path / "bob"
    cli(bob_dir, "login", "bob", "--server", url, "--password-stdin", input=PASSWORD + "\n")
    watch = subprocess.Popen([sys.executable, "-m", "chatkit_cli", "--data-dir", str(bob_dir), "sync", "--watch"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, NO_COLOR="1"))
    totals = []
    try:
        with Burst(url, alice, threads=2):
            deadline = time.monotonic() + 60
            while not (bob_dir / "client.db").exists() or _count(bob_dir / "client.db") < 20:
                assert time.monotonic() < deadline, "sync --watch stored nothing"
                time.sleep(0.1)
            for n in range(3):
                target = tmp_path / f"client-copy-{n}.db"
                cli(bob_dir, "backup", "--to", target)
                totals.append(_consistent(target))
                time.sleep(0.3)
        assert watch.poll() is None, "sync --watch kept running during the backups"
    finally:
        watch.send_signal(signal.SIGINT)
        try:
            watch.wait(20)
        except subprocess.TimeoutExpired:
            watch.kill()
            watch.wait()
    assert totals == sorted(totals) and totals[-1] > totals[0] >= 20
    assert "Traceback" not in watch.stderr.read()
    listed = json.loads(cli(bob_dir, "conversations", "--json").stdout)
    assert listed[0]["peer"] == "alice"


def _count(path) -> int:
    try:
        return query(path, "SELECT count(*) FROM messages")[0][0]
    except sqlite3.OperationalError:
        return 0


def _consistent(path) -> int:
    """A snapshot: integrity ok, conversations agree with messages, FTS holds every message."""
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    stored = {p: (c, u) for p, c, u in query(path, "SELECT peer, message_count, unread_count FROM conversations")}
    counted = {p: (c, u) for p, c, u in query(
        path, "SELECT peer, count(*), sum(status = 'unread') FROM messages GROUP BY peer")}
    assert stored == counted
    total = query(path, "SELECT count(*) FROM messages")[0][0]
    assert query(path, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'burst'") == [(total,)]
    assert query(path, "SELECT count(*) FROM messages_fts") == [(total,)]
    return total
