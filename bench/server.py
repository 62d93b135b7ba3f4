"""`python -m bench.server`: chatkit's send path against two references.

N keep-alive httpx clients (default 16) POST messages for T seconds to three
servers, one after another, each a separate process under the same waitress
settings as `chatkit server`:

  bare    Flask returning the same JSON reply, no database
  sqlite  Flask doing one raw sqlite3 INSERT + COMMIT per request, same PRAGMAs
          (writers queue on a Python lock, as any one-process app would)
  chatkit `chatkit server` (auth, validation, Pony, group commit), while 200
          long polls (default) wait on it from other accounts

The three are measured in interleaved rounds (so background load hits them
alike); it prints the median messages/s, pooled p50 and p99 for each, and
chatkit's ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

REPLY_TIME = "2026-12-04T10:00:00Z"


# --- the reference servers (run as `python -m bench.server --serve KIND`) ---------

def reference_app(kind: str, db_path: str):
    from flask import Flask, jsonify, request

    from chatkit.server import sqlite as chatkit_sqlite

    app = Flask("bench")
    local = threading.local()
    write_lock = threading.Lock()
    counter = iter(range(1, 1 << 62))

    def connection():
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
            for statement in chatkit_sqlite.pragmas():
                local.conn.execute(statement)
        return local.conn

    if kind == "sqlite":
        with sqlite3.connect(db_path) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                         " uuid TEXT NOT NULL, sender INTEGER NOT NULL, recipient INTEGER NOT NULL,"
                         " sent_at TEXT NOT NULL, received_at TEXT NOT NULL, body TEXT,"
                         " UNIQUE (sender, uuid))")

    @app.post("/api/messages")
    def send():
        msg = request.get_json()
        if kind == "sqlite":
            conn = connection()
            with write_lock:  # queue writers in Python, not in SQLite's sleeping busy handler
                conn.execute("BEGIN IMMEDIATE")
                seq = conn.execute(
                    "INSERT INTO messages (uuid, sender, recipient, sent_at, received_at, body)"
                    " VALUES (?, 1, 2, ?, ?, ?)", (msg["id"], msg["sent_at"], REPLY_TIME, msg["body"])).lastrowid
                conn.execute("COMMIT")
        else:
            seq = next(counter)
        return jsonify({"id": msg["id"], "seq": seq, "received_at": REPLY_TIME}), 201

    @app.get("/api/health")
    def health():
        return jsonify({"status": "ok"})

    return app


def serve_reference(kind, port, threads, db_path):
    import waitress

    from chatkit.server.serve import waitress_options

    server = waitress.create_server(reference_app(kind, db_path), host="127.0.0.1", port=port,
                                    **waitress_options(threads))
    server.run()


# --- load generation -------------------------------------------------------------

def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, url, log_path) -> subprocess.Popen:
    log = open(log_path, "ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"server did not start: {' '.join(args)} (see {log_path})")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def login(url, name):
    for _ in range(20):
        r = httpx.post(url + "/api/login", json={"username": name, "password": "bench-password"}, timeout=60)
        if r.status_code != 503:  # hashing is bounded: a storm of logins may be told to come back
            break
        time.sleep(float(r.headers.get("Retry-After", "1")))
    r.raise_for_status()
    return {"Authorization": "Bearer " + r.json()["token"]}


def run_senders(url, headers_list, seconds, warmup=1.0):
    """Each client sends back to back; returns (messages/s, latencies in ms, errors, total sent)."""
    results, errors, totals = [], [], []
    begin = time.monotonic() + warmup
    end = begin + seconds
    body = "x" * 100

    def client(headers):
        mine, sent = [], 0
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            while True:
                t0 = time.monotonic()
                if t0 >= end:
                    break
                r = http.post("/api/messages", json={"id": str(uuid.uuid4()), "to": "bob", "body": body,
                                                     "sent_at": REPLY_TIME})
                t1 = time.monotonic()
                sent += 1
                if r.status_code != 201:
                    errors.append(r.status_code)
                if t0 >= begin:
                    mine.append((t1 - t0) * 1000)
        results.append(mine)
        totals.append(sent)

    threads = [threading.Thread(target=client, args=(h,)) for h in headers_list]
    [t.start() for t in threads]
    [t.join() for t in threads]
    latencies = sorted(x for mine in results for x in mine)
    return len(latencies) / seconds, latencies, errors, sum(totals)


class LongPolls:
    """`count` long polls (wait=30) held open on one asyncio loop in a thread."""

    def __init__(self, url, headers_list):
        self.url, self.headers_list = url, headers_list
        self.answered = self.failed = 0
        self.waiting = 0
        self._stop = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _poll(self, http, headers):
        while not self._stop.is_set():
            self.waiting += 1
            try:
                r = await http.get(self.url + "/api/messages?wait=30", headers=headers)
                self.answered += r.status_code == 200
                self.failed += r.status_code != 200
            except httpx.HTTPError:
                self.failed += 1
            finally:
                self.waiting -= 1

    async def _main(self):
        self._stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        limits = httpx.Limits(max_connections=len(self.headers_list) + 10)
        async with httpx.AsyncClient(timeout=40, limits=limits) as http:
            tasks = [asyncio.create_task(self._poll(http, h)) for h in self.headers_list]
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


class PollHolder:
    """Runs LongPolls in its own process (`--hold-polls`), so the senders keep their GIL."""

    def __init__(self, url, headers_list, workdir: Path):
        tokens = workdir / "poll-tokens.txt"
        tokens.write_text("\n".join(h["Authorization"] for h in headers_list))
        self.status_path = workdir / "poll-status.txt"
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.server", "--hold-polls", url,
                                      "--tokens", str(tokens), "--status", str(self.status_path)])
        deadline = time.monotonic() + 30
        while self.status()[0] < len(headers_list) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # let the last polls reach the server

    def status(self) -> tuple[int, int]:
        try:
            waiting, failed = self.status_path.read_text().split()
            return int(waiting), int(failed)
        except (OSError, ValueError):
            return 0, 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def hold_polls(url, tokens_path, status_path):
    tokens = Path(tokens_path).read_text().split("\n")
    polls = LongPolls(url, [{"Authorization": t} for t in tokens])
    polls.start()
    while True:
        Path(status_path).write_text(f"{polls.waiting} {polls.failed}")
        time.sleep(0.2)


def percentile(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Target:
    """One server process under test and the request headers its senders use."""

    def __init__(self, kind, opts, workdir: Path):
        self.kind, self.polls = kind, None
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        data = workdir / kind
        data.mkdir()
        if kind == "chatkit":
            args = [sys.executable, "-m", "chatkit_cli", "--data-dir", str(data), "server",
                    "--port", str(port), "--threads", str(opts.threads)]
        else:
            args = [sys.executable, "-m", "bench.server", "--serve", kind, "--port", str(port),
                    "--threads", str(opts.threads), "--db", str(data / "raw.db")]
        self.proc = start(args, self.url, data / "server.log")
        if kind == "chatkit":
            login(self.url, "bob")
            self.headers = [login(self.url, f"sender{i}") for i in range(opts.clients)]
            if opts.polls:
                waiters = _login_many(self.url, [f"waiter{i}" for i in range(opts.polls)])
                self.polls = PollHolder(self.url, waiters, data)
        else:
            self.headers = [{} for _ in range(opts.clients)]
        self.rates, self.latencies, self.errors, self.cpu_ms = [], [], 0, []

    def run(self, seconds):
        cpu_before = process_cpu_seconds(self.proc.pid)
        rate, lat, errors, sent = run_senders(self.url, self.headers, seconds, warmup=0.5)
        if sent:  # server CPU per message: steadier than msg/s when the machine is shared
            self.cpu_ms.append((process_cpu_seconds(self.proc.pid) - cpu_before) * 1000 / sent)
        self.rates.append(rate)
        self.latencies += lat
        self.errors += len(errors)

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        waiting, failed = self.polls.status() if self.polls else (0, 0)
        return {"kind": self.kind, "rate": statistics.median(self.rates), "p50": percentile(lat, 50),
                "p99": percentile(lat, 99), "errors": self.errors, "polls_waiting": waiting,
                "cpu_ms": statistics.median(self.cpu_ms) if self.cpu_ms else float("nan"),
                "polls_failed": failed}

    def close(self):
        if self.polls:
            self.polls.stop()
        stop(self.proc)


def _login_many(url, names, parallel=4):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda name: login(url, name), names))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive senders")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per server per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; rates are medians, latencies pooled")
    parser.add_argument("--polls", type=int, default=200, help="long polls held open on chatkit")
    parser.add_argument("--threads", type=int, default=256, help="waitress threads, same for all three")
    parser.add_argument("--serve", choices=["bare", "sqlite"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--hold-polls", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
    parser.add_argument("--status", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.hold_polls:
        return hold_polls(opts.hold_polls, opts.tokens, opts.status)
    if opts.serve:
        return serve_reference(opts.serve, opts.port, opts.threads, opts.db)

    print(f"{opts.clients} clients, {opts.rounds} x {opts.seconds:g} s each, waitress threads={opts.threads}, "
          f"{opts.polls} long polls on chatkit, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="chatkit-bench-") as tmp:
        targets = [Target(kind, opts, Path(tmp)) for kind in ("bare", "sqlite", "chatkit")]
        try:
            for _ in range(opts.rounds):  # interleaved, so background load hits all three alike
                for target in targets:
                    target.run(opts.seconds)
            rows = {t.kind: t.summary() for t in targets}
        finally:
            for target in targets:
                target.close()
    print(f"{'server':<9}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/msg':>12}{'errors':>8}")
    for row in rows.values():
        print(f"{row['kind']:<9}{row['rate']:>9.0f}{row['p50']:>9.1f}{row['p99']:>9.1f}"
              f"{row['cpu_ms']:>12.2f}{row['errors']:>8}")
    ck = rows["chatkit"]
    print(f"long polls waiting on chatkit at the end: {ck['polls_waiting']} of {opts.polls} "
          f"({ck['polls_failed']} failed)")
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"chatkit / bare   = {ck['rate'] / rows['bare']['rate']:.2f}  (target >= 0.5)")
    print(f"chatkit / sqlite = {ck['rate'] / rows['sqlite']['rate']:.2f}  (target >= 0.7)")
    print(f"chatkit p99      = {ck['p99']:.1f} ms  (target < 100 ms)")
    print(f"server CPU per message: chatkit / bare = {ck['cpu_ms'] / rows['bare']['cpu_ms']:.2f}, "
          f"chatkit / sqlite = {ck['cpu_ms'] / rows['sqlite']['cpu_ms']:.2f}")


if __name__ == "__main__":
    main()
