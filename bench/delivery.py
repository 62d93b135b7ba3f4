"""`python -m bench.delivery`: the client's delivery path against the plain way, in one run.

Against one real `chatkit server` (a subprocess on a free loopback port):

send   chatkit's durable path per message — `record_outgoing` (message + outbox
       row, one fsync'd transaction), POST, `mark_delivered` (second
       transaction) — against (a) a bare httpx POST of the same JSON with no
       local store, and (b) the same durable steps written by hand in sqlite3
       on the same client.db schema (the floor for "store first, then send").
pull   `sync.pull` storing N incoming messages (Pony, idempotent by id, cursor
       in the same transaction) against httpx GETs + one `executemany`
       INSERT OR IGNORE per page on the same schema (triggers and FTS included
       in both); then the same local write alone, without the network.
process  the whole `chatkit send` process against `python -c "import httpx;
       httpx.post(...)"`, medians over runs taken in turn.
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir.resolve()),
                             "server", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("chatkit server did not start")


def token_for(url: str, name: str) -> str:
    return httpx.post(url + "/api/login", json={"username": name, "password": PASSWORD}).json()["token"]


def now_iso() -> str:
    from chatkit.timefmt import iso_z, utcnow

    return iso_z(utcnow())


# --- send -----------------------------------------------------------------------------

def send_variants(store, api, bare: httpx.Client, by_hand: httpx.Client, n: int) -> dict[str, list[float]]:
    """Time the three ways one message at a time, in turn, so background load hits all alike."""
    from chatkit.client.outbox import record_outgoing
    from chatkit.client.store import PRAGMAS
    from chatkit.client.sync import deliver
    from chatkit.textfold import fold
    from chatkit.timefmt import to_db, utcnow

    conn = sqlite3.connect(store.path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)

    def chatkit_way(i):
        record_outgoing(store, "alice", "bob", f"bench message {i}")
        report = deliver(store, api, "alice")
        assert len(report.delivered) == 1, report

    def hand_way(i):  # the same durable steps in hand-written sqlite3
        body, uid, sent = f"bench message {i}", str(uuid.uuid4()), utcnow()
        conn.execute("BEGIN IMMEDIATE")
        mid = conn.execute(
            "INSERT INTO messages (uuid, account, peer, direction, sender, recipient, body, body_folded, sent_at,"
            " status) VALUES (?, 'hand', 'bob', 'out', 'hand', 'bob', ?, ?, ?, 'pending')",
            (uid, body, fold(body), to_db(sent))).lastrowid
        conn.execute("INSERT INTO outbox (message, attempts, state, next_attempt_at) VALUES (?, 0, 'pending', ?)",
                     (mid, to_db(sent)))
        conn.execute("COMMIT")
        reply = by_hand.post("/api/messages", json={"id": uid, "to": "bob", "body": body, "sent_at": now_iso()})
        assert reply.status_code == 201
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE messages SET status = 'sent', received_at = ? WHERE id = ?", (to_db(utcnow()), mid))
        conn.execute("DELETE FROM outbox WHERE message = ?", (mid,))
        conn.execute("COMMIT")

    def bare_way(i):
        reply = bare.post("/api/messages", json={"id": str(uuid.uuid4()), "to": "bob",
                                                 "body": f"bench message {i}", "sent_at": now_iso()})
        assert reply.status_code == 201

    ways = {"chatkit (outbox + POST + mark sent)": chatkit_way,
            "hand-written sqlite3, same steps": hand_way,
            "bare httpx POST, no local store": bare_way}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for i in range(n):
        for name, way in ways.items():
            start = time.perf_counter()
            way(i)
            times[name].append(time.perf_counter() - start)
    conn.close()
    return times


# --- pull -----------------------------------------------------------------------------

def fill(url: str, sender_token: str, n: int) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {sender_token}"}) as http:
        for i in range(n):
            http.post("/api/messages", json={"id": str(uuid.uuid4()), "to": "bob",
                                             "body": f"Nachricht {i}: Grüße aus Berlin", "sent_at": now_iso()})


def drain_queue(http: httpx.Client) -> None:
    cursor = 0
    while True:
        page = http.get("/api/messages", params={"after": cursor, "wait": 0}).json()
        if not page["messages"]:
            return
        cursor = page["next"]


def pull_chatkit(store, api, server: str) -> tuple[int, float]:
    from chatkit.client.sync import pull

    start = time.perf_counter()
    got = pull(store, api, "bob", server)
    return len(got), time.perf_counter() - start


def pull_by_hand(db_path: Path, http: httpx.Client, server: str) -> tuple[int, float]:
    from chatkit.client.store import PRAGMAS
    from chatkit.textfold import fold
    from chatkit.timefmt import parse_iso, to_db

    conn = sqlite3.connect(db_path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    start = time.perf_counter()
    row = conn.execute("SELECT cursor FROM sync_state WHERE account = 'bob-hand' AND server = ?", (server,)).fetchone()
    cursor, stored = (row[0] if row else 0), 0
    while True:
        page = http.get("/api/messages", params={"after": cursor, "wait": 0}).json()
        if not page["messages"]:
            break
        rows = [(m["id"], "bob-hand", m["from"], "in", m["from"], m["to"], m["body"], fold(m["body"]),
                 to_db(parse_iso(m["sent_at"])), to_db(parse_iso(m["received_at"])), "unread")
                for m in page["messages"]]
        conn.execute("BEGIN IMMEDIATE")
        stored += conn.executemany(
            "INSERT OR IGNORE INTO messages (uuid, account, peer, direction, sender, recipient, body, body_folded,"
            " sent_at, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows).rowcount
        conn.execute("INSERT INTO sync_state (account, server, cursor) VALUES ('bob-hand', ?, ?)"
                     " ON CONFLICT (account, server) DO UPDATE SET cursor = excluded.cursor", (server, page["next"]))
        conn.execute("COMMIT")
        cursor = page["next"]
    elapsed = time.perf_counter() - start
    conn.close()
    return stored, elapsed


def store_only(root: Path, n: int) -> tuple[float, float]:
    """Just the local write of fetched pages: `store_incoming` vs executemany, no network."""
    from chatkit.client.store import PRAGMAS, open_client_store
    from chatkit.client.sync import store_incoming
    from chatkit.textfold import fold
    from chatkit.timefmt import parse_iso, to_db

    pages = [[{"id": str(uuid.uuid4()), "seq": p * 500 + i + 1, "from": f"peer{i % 7}", "to": "bob",
               "body": f"Nachricht {i}: Grüße aus Berlin, see you at {i % 24}:00",
               "sent_at": "2026-12-04T10:00:00Z", "received_at": "2026-12-04T10:00:01Z"}
              for i in range(500)] for p in range(max(1, n // 500))]
    store = open_client_store(root / "store-only-ck" / "client.db")
    hand = open_client_store(root / "store-only-hand" / "client.db")
    hand.close()
    conn = sqlite3.connect(hand.path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    ours = plain = 0.0
    for page in pages:  # a page each, in turn
        start = time.perf_counter()
        store_incoming(store, "bob", "http://x", page, page[-1]["seq"])
        ours += time.perf_counter() - start
        start = time.perf_counter()
        rows = [(m["id"], "bob", m["from"], "in", m["from"], m["to"], m["body"], fold(m["body"]),
                 to_db(parse_iso(m["sent_at"])), to_db(parse_iso(m["received_at"])), "unread") for m in page]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR IGNORE INTO messages (uuid, account, peer, direction, sender, recipient, body, body_folded,"
            " sent_at, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("INSERT INTO sync_state (account, server, cursor) VALUES ('bob', 'http://x', ?)"
                     " ON CONFLICT (account, server) DO UPDATE SET cursor = excluded.cursor", (page[-1]["seq"],))
        conn.execute("COMMIT")
        plain += time.perf_counter() - start
    store.close()
    conn.close()
    return len(pages) * 500 / ours, len(pages) * 500 / plain


# --- whole processes ----------------------------------------------------------------------

def process_medians(data_dir: Path, url: str, token: str, runs: int) -> tuple[float, float]:
    chatkit_cmd = [sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), "send", "bob", "process bench"]
    plain_code = ("import httpx, uuid, sys; r = httpx.post(sys.argv[1] + '/api/messages', "
                  "headers={'Authorization': 'Bearer ' + sys.argv[2]}, json={'id': str(uuid.uuid4()), "
                  "'to': 'bob', 'body': 'process bench', 'sent_at': '2026-12-04T10:00:00Z'}); "
                  "assert r.status_code == 201")
    plain_cmd = [sys.executable, "-c", plain_code, url, token]
    ours, plain = [], []
    for _ in range(runs):  # taken in turn, so background load hits both alike
        for cmd, into in ((chatkit_cmd, ours), (plain_cmd, plain)):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            into.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(plain)


# --- report -------------------------------------------------------------------------------

def summary(name: str, times: list[float]) -> tuple[float, str]:
    rate = len(times) / sum(times)
    return rate, (f"  {name:<34} {rate:8.0f} msg/s   p50 {statistics.median(times) * 1000:6.2f} ms"
                  f"   p99 {sorted(times)[int(len(times) * 0.99) - 1] * 1000:6.2f} ms")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=300, help="messages per send variant")
    parser.add_argument("--pulls", type=int, default=2000, help="messages per pull variant")
    parser.add_argument("--runs", type=int, default=7, help="process runs per variant")
    args = parser.parse_args(argv)

    from chatkit.client.session import save_session
    from chatkit.client.store import open_client_store
    from chatkit.client.transport import Api

    root = Path(tempfile.mkdtemp(prefix="chatkit-bench-delivery-"))
    proc, url = start_server(root / "server")
    try:
        alice_token, bob_token = token_for(url, "alice"), token_for(url, "bob")
        token_for(url, "hand")
        hand_token = token_for(url, "hand")
        store = open_client_store(root / "client" / "client.db")
        alice_api, bob_api = Api(url, alice_token), Api(url, bob_token)
        bare = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {alice_token}"})
        by_hand = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {hand_token}"})
        send_variants(store, alice_api, bare, by_hand, 20)  # warm up connections and caches

        print(f"send: {args.sends} messages, one at a time, the three ways in turn, to {url}")
        rates = {}
        for name, times in send_variants(store, alice_api, bare, by_hand, args.sends).items():
            rates[name], line = summary(name, times)
            print(line)
        r_ck, r_hand, r_bare = rates.values()
        print(f"  ratio chatkit / hand-written: {r_ck / r_hand:.2f}x    chatkit / bare POST: {r_ck / r_bare:.2f}x")

        bob_store = open_client_store(root / "bob" / "client.db")
        hand_store = open_client_store(root / "bob-hand" / "client.db")  # same schema, its own file
        hand_store.close()
        print(f"pull: {args.pulls} incoming messages (pages of 500), each into a fresh client.db")
        drain = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {bob_token}"})
        drain_queue(drain)  # bob's queue from the send runs
        n_ck = t_ck = n_hand = t_hand = 0
        for _ in range(max(1, args.pulls // 500)):  # a page each, in turn
            fill(url, alice_token, 500)
            n, t = pull_chatkit(bob_store, bob_api, url)
            n_ck, t_ck = n_ck + n, t_ck + t
            fill(url, alice_token, 500)
            n, t = pull_by_hand(hand_store.path, drain, url)
            n_hand, t_hand = n_hand + n, t_hand + t
        print(f"  {'chatkit sync.pull (Pony)':<34} {n_ck / t_ck:8.0f} msg/s   ({n_ck} in {t_ck:.2f} s)")
        print(f"  {'httpx GET + executemany':<34} {n_hand / t_hand:8.0f} msg/s   ({n_hand} in {t_hand:.2f} s)")
        print(f"  ratio chatkit / plain: {(n_ck / t_ck) / (n_hand / t_hand):.2f}x")
        r_ours, r_plain = store_only(root, args.pulls)
        print(f"store only: the same local write without the network ({args.pulls} messages)")
        print(f"  {'chatkit store_incoming (Pony)':<34} {r_ours:8.0f} msg/s")
        print(f"  {'sqlite3 executemany':<34} {r_plain:8.0f} msg/s")
        print(f"  ratio chatkit / plain: {r_ours / r_plain:.2f}x")

        client_dir = root / "proc"
        save_session(client_dir, url, "alice", alice_token)
        ours, plain = process_medians(client_dir, url, alice_token, args.runs)
        print(f"process: median of {args.runs} runs each, taken in turn")
        print(f"  {'chatkit send (whole process)':<34} {ours * 1000:8.0f} ms")
        print(f"  {'python -c httpx.post(...)':<34} {plain * 1000:8.0f} ms")
        print(f"  ratio chatkit / plain: {ours / plain:.2f}x")
        store.close()
        bob_store.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main(sys.argv[1:])
