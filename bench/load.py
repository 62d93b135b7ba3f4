"""`python -m bench.load`: chatkit under load, a login burst, and a soak — loopback only.

Everything runs against a real `chatkit server` process (production argon2,
default waitress settings) started on a free 127.0.0.1 port in a temporary
data dir, and stopped at the end. Traffic is bounded in count and time.

load (default)
    200 accounts each keep one long poll waiting (GET /api/messages?wait=30);
    then 100 of them send 50 messages each to random others, as fast as the
    server answers. Reports: 5xx and "database is locked" (replies and the
    server log: must be zero), every acknowledged message delivered exactly
    once (each mailbox's long-poll stream, then a final read of every mailbox,
    then server.db: no row undelivered, none twice), p50/p99 of the send
    (POST → 201) and of delivery (POST started → the recipient's long poll
    returned it).
logins (default, after load)
    50 concurrent first logins, then 50 concurrent logins of those accounts,
    with the server's RSS sampled every 20 ms: peak above the baseline, and
    the statuses (no 500).
--soak [MINUTES] (default 10)
    Mixed traffic instead: 40 long polls, ~20 messages/s from 20 senders,
    a login and a logout every few seconds, `users` lists. The server's RSS
    and open file descriptors are sampled every minute, printed as a series,
    and judged (see judge_rss): flat, settling (growth slowing toward a bound,
    e.g. per-connection page caches filling) or GROWING; open files must stay
    within 8 of the level after the first minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

PASSWORD = "load-test-password"


# --- the server process ----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`chatkit server` on a free loopback port in a temporary data dir."""

    def __init__(self, data_dir: Path, threads: int | None = None):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "server.log"
        args = [sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), "server",
                "--host", "127.0.0.1", "--port", str(self.port)]
        if threads:
            args += ["--threads", str(threads)]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"chatkit server exited:\n{self.log()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("chatkit server did not start")

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def rss(self) -> int:
        return _status_kib(self.proc.pid, "VmRSS") * 1024

    def peak_rss(self) -> int:
        return _status_kib(self.proc.pid, "VmHWM") * 1024

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


# --- helpers -----------------------------------------------------------------------

def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def pct(values, p) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def mib(n: int) -> str:
    return f"{n / 1_048_576:.0f} MiB"


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    transport_errors: Counter = field(default_factory=Counter)

    def note(self, response: httpx.Response):
        self.statuses[response.status_code] += 1
        if response.status_code >= 400:
            try:
                self.codes[response.json()["error"]["code"]] += 1
            except (ValueError, KeyError, TypeError):
                self.codes["<not the JSON error shape>"] += 1
            if "locked" in response.text:
                self.codes["<database is locked>"] += 1

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


async def login_all(http, names, tally, concurrency=8) -> dict[str, str]:
    tokens = {}
    gate = asyncio.Semaphore(concurrency)

    async def one(name):
        async with gate:
            for _ in range(5):
                r = await http.post("/api/login", json={"username": name, "password": PASSWORD})
                tally.note(r)
                if r.status_code in (200, 201):
                    tokens[name] = r.json()["token"]
                    return
                await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
            raise SystemExit(f"cannot log in {name}: {r.status_code} {r.text}")

    await asyncio.gather(*(one(n) for n in names))
    return tokens


def server_db_check(db_path: Path) -> dict:
    conn = sqlite3.connect(db_path)
    try:
        return {
            "rows": conn.execute("SELECT count(*) FROM messages").fetchone()[0],
            "undelivered": conn.execute("SELECT count(*) FROM messages WHERE delivered_at IS NULL").fetchone()[0],
            "doubled": conn.execute("SELECT count(*) FROM (SELECT sender, uuid FROM messages "
                                    "GROUP BY sender, uuid HAVING count(*) > 1)").fetchone()[0],
            "bodies_left": conn.execute("SELECT count(*) FROM messages WHERE body IS NOT NULL").fetchone()[0],
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
        }
    finally:
        conn.close()


def log_trouble(log: str) -> dict:
    return {"database is locked": log.count("database is locked"), "Traceback": log.count("Traceback"),
            "ERROR lines": sum(" ERROR " in line for line in log.splitlines())}


# --- load ------------------------------------------------------------------------------

class Mailbox:
    """One account's long-poll loop: records when each message arrived, acknowledges as it goes."""

    def __init__(self, http, name, token, tally, delivered, arrival):
        self.http, self.name, self.tally = http, name, tally
        self.headers = {"Authorization": f"Bearer {token}"}
        self.cursor = 0
        self.delivered = delivered  # id -> list of recipients that got it
        self.arrival = arrival  # id -> monotonic time the poll returned it
        self.waiting = asyncio.Event()

    def _take(self, page):
        t = time.monotonic()
        for m in page["messages"]:
            self.delivered[m["id"]].append(self.name)
            self.arrival.setdefault(m["id"], t)
            if m["to"] != self.name:
                self.delivered[m["id"]].append(f"WRONG MAILBOX {self.name}")
        self.cursor = page["next"]

    async def poll_forever(self, wait=30):
        while True:
            self.waiting.set()
            try:
                r = await self.http.get("/api/messages", params={"after": self.cursor, "wait": wait},
                                        headers=self.headers, timeout=wait + 30)
            except httpx.TransportError as exc:
                self.tally.transport_errors[type(exc).__name__] += 1
                await asyncio.sleep(0.5)
                continue
            self.tally.note(r)
            if r.status_code == 200:
                self._take(r.json())
            else:
                await asyncio.sleep(float(r.headers.get("Retry-After", "1")))

    async def drain(self):
        """Read what is left (wait=0) until the server has nothing more; acknowledges it all."""
        while True:
            r = await self.http.get("/api/messages", params={"after": self.cursor, "wait": 0},
                                    headers=self.headers)
            self.tally.note(r)
            page = r.json()
            self._take(page)
            if not page["messages"]:
                return


_PLAIN = None


def own_client(server: Server) -> httpx.AsyncClient:
    """One small client per simulated person: a shared pool of hundreds of connections
    makes httpx itself the bottleneck (its pool does O(connections) work per request).
    They share one SSL context: making one per client loads the CA bundle each time
    (tens of ms of blocked event loop per client), although loopback is plain HTTP."""
    global _PLAIN
    if _PLAIN is None:
        import ssl

        _PLAIN = ssl.create_default_context()
    return httpx.AsyncClient(base_url=server.url, timeout=60, limits=httpx.Limits(max_connections=2),
                             verify=_PLAIN)


async def run_load(server: Server, senders=100, per_sender=50, pollers=200, seed=1, interval=0.0) -> dict:
    """`interval` 0: each sender sends as soon as the last reply came (the server saturated);
    otherwise one message every `interval` seconds per sender (open loop, an offered rate)."""
    rng = random.Random(seed)
    names = [f"load{i:03d}" for i in range(max(pollers, senders))]
    tally = Tally()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        t = time.monotonic()
        tokens = await login_all(http, names, tally)
        setup = time.monotonic() - t
        delivered, arrival = defaultdict(list), {}
        boxes = {n: Mailbox(own_client(server), n, tokens[n], tally, delivered, arrival) for n in names[:pollers]}
        polls = [asyncio.create_task(b.poll_forever()) for b in boxes.values()]
        await asyncio.gather(*(b.waiting.wait() for b in boxes.values()))
        await asyncio.sleep(2.0)  # let every poll reach the server and start waiting

        started, acked, send_lat, failed = {}, {}, [], Counter()
        recipients = {}

        async def sender(name):
            async with own_client(server) as mine:
                await send_all(mine, name)

        async def send_all(http, name):
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            others = [n for n in names[:pollers] if n != name]
            begin = time.monotonic() + rng.uniform(0, interval)
            for i in range(per_sender):
                if interval:
                    await asyncio.sleep(max(0.0, begin + i * interval - time.monotonic()))
                mid, to = str(uuid.uuid4()), rng.choice(others)
                body = f"load message {i} from {name} to {to}: " + "x" * rng.randint(10, 400)
                t0 = time.monotonic()
                started[mid] = t0
                recipients[mid] = to
                for attempt in range(10):  # a 503 or broken connection is retried with the same id
                    try:
                        r = await http.post("/api/messages", headers=headers, json={
                            "id": mid, "to": to, "body": body, "sent_at": now_iso()})
                    except httpx.TransportError as exc:
                        tally.transport_errors[type(exc).__name__] += 1
                        await asyncio.sleep(0.5)
                        continue
                    tally.note(r)
                    if r.status_code in (200, 201):
                        acked[mid] = time.monotonic()
                        send_lat.append(acked[mid] - t0)
                        break
                    failed[r.status_code] += 1
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))

        t_send, cpu_server, cpu_bench = time.monotonic(), server.cpu_seconds(), time.process_time()
        await asyncio.gather(*(sender(n) for n in names[:senders]))
        send_wall = time.monotonic() - t_send
        cpu_server, cpu_bench = server.cpu_seconds() - cpu_server, time.process_time() - cpu_bench
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not set(acked) <= set(arrival):
            await asyncio.sleep(0.2)
        for task in polls:
            task.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
        for box in boxes.values():
            await box.drain()
            await box.http.aclose()

    exactly_once = sum(1 for mid in acked if delivered.get(mid) == [recipients[mid]])
    lost = [mid for mid in acked if not delivered.get(mid)]
    doubled = [mid for mid in acked if len(delivered.get(mid, [])) > 1]
    deliver_lat = [arrival[mid] - started[mid] for mid in acked if mid in arrival]
    return {
        "accounts": len(names), "setup_s": round(setup, 1), "interval_s": interval, "pollers": pollers, "senders": senders,
        "messages": senders * per_sender, "acknowledged": len(acked), "exactly_once": exactly_once,
        "lost": len(lost), "doubled": len(doubled),
        "unacknowledged_sends": senders * per_sender - len(acked), "send_retries": dict(failed),
        "send_wall_s": round(send_wall, 2), "cpu_s_server": round(cpu_server, 1),
        "cpu_s_load_generator": round(cpu_bench, 1), "load_average": os.getloadavg()[0], "throughput_msg_s": round(len(acked) / send_wall, 1),
        "send_p50_ms": round(pct(send_lat, 50) * 1000, 1), "send_p99_ms": round(pct(send_lat, 99) * 1000, 1),
        "delivery_p50_ms": round(pct(deliver_lat, 50) * 1000, 1),
        "delivery_p99_ms": round(pct(deliver_lat, 99) * 1000, 1),
        "statuses": dict(sorted(tally.statuses.items())), "error_codes": dict(tally.codes),
        "transport_errors": dict(tally.transport_errors), "server_5xx": tally.server_errors,
    }


# --- login burst -------------------------------------------------------------------------

async def run_logins(server: Server, n=50) -> dict:
    samples = []
    stop = asyncio.Event()

    async def sample():
        while not stop.is_set():
            samples.append(server.rss())
            await asyncio.sleep(0.02)

    results = {}
    limits = httpx.Limits(max_connections=n + 10)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=120) as http:
        for phase in ("first logins (register)", "logins again"):
            baseline = server.rss()
            samples.clear()
            stop.clear()
            sampler = asyncio.create_task(sample())
            tally = Tally()
            lat = []

            async def one(i):
                t0 = time.monotonic()
                r = await http.post("/api/login", json={"username": f"burst{i:02d}", "password": PASSWORD})
                lat.append(time.monotonic() - t0)
                tally.note(r)

            t = time.monotonic()
            await asyncio.gather(*(one(i) for i in range(n)))
            wall = time.monotonic() - t
            stop.set()
            await sampler
            results[phase] = {
                "statuses": dict(sorted(tally.statuses.items())), "error_codes": dict(tally.codes),
                "http_500": tally.statuses.get(500, 0), "wall_s": round(wall, 2),
                "p50_ms": round(pct(lat, 50) * 1000), "p99_ms": round(pct(lat, 99) * 1000),
                "rss_before_mib": round(baseline / 1_048_576), "rss_peak_mib": round(max(samples) / 1_048_576),
                "rss_growth_mib": round((max(samples) - baseline) / 1_048_576),
            }
    return results


# --- soak ----------------------------------------------------------------------------------

async def run_soak(server: Server, minutes: float, seed=2) -> dict:
    rng = random.Random(seed)
    tally = Tally()
    names = [f"soak{i:02d}" for i in range(40)]
    series = []
    sent = Counter()
    limits = httpx.Limits(max_connections=120)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        tokens = await login_all(http, names, tally)
        delivered, arrival = defaultdict(list), {}
        boxes = [Mailbox(http, n, tokens[n], tally, delivered, arrival) for n in names]
        tasks = [asyncio.create_task(b.poll_forever()) for b in boxes]
        end = time.monotonic() + minutes * 60

        async def sender(name):
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            while time.monotonic() < end:
                to = rng.choice([n for n in names if n != name])
                try:
                    r = await http.post("/api/messages", headers=headers, json={
                        "id": str(uuid.uuid4()), "to": to, "body": "soak " + "y" * rng.randint(1, 2000),
                        "sent_at": now_iso()})
                    tally.note(r)
                    sent[r.status_code] += 1
                except httpx.TransportError as exc:
                    tally.transport_errors[type(exc).__name__] += 1
                await asyncio.sleep(rng.uniform(0.5, 1.5))  # ~20 messages/s from 20 senders

        async def churn():
            i = 0
            while time.monotonic() < end:
                i += 1
                r = await http.post("/api/login", json={"username": f"churn{i % 50:02d}", "password": PASSWORD})
                tally.note(r)
                if r.status_code in (200, 201):
                    headers = {"Authorization": f"Bearer {r.json()['token']}"}
                    tally.note(await http.get("/api/users", headers=headers))
                    tally.note(await http.post("/api/logout", headers=headers))
                if i % 10 == 0:  # a wrong password now and then (stays under the throttle)
                    tally.note(await http.post("/api/login", json={"username": f"churn{i % 50:02d}",
                                                                   "password": "wrong-password"}))
                await asyncio.sleep(3)

        async def sampler():
            t0 = time.monotonic()
            minute = 0
            while True:
                # the least of five readings over a second: a login hashing at that instant
                # holds ~19 MiB for a moment, which is not what the series is about
                readings = []
                for _ in range(5):
                    readings.append(server.rss())
                    await asyncio.sleep(0.2)
                series.append({"minute": minute, "rss_mib": round(min(readings) / 1_048_576, 1),
                               "open_files": server.open_files(), "sent": sum(sent.values())})
                print(f"  soak minute {minute}: RSS {series[-1]['rss_mib']} MiB, "
                      f"{series[-1]['open_files']} open files, {series[-1]['sent']} messages sent", flush=True)
                minute += 1
                if t0 + minute * 60 > end + 1:
                    return
                await asyncio.sleep(max(0, t0 + minute * 60 - time.monotonic()))

        work = [asyncio.create_task(sender(n)) for n in names[:20]] + [asyncio.create_task(churn())]
        await asyncio.gather(sampler(), *work)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for box in boxes:
            await box.drain()

    rss = judge_rss([s["rss_mib"] for s in series])
    base_fds, last_fds = series[min(1, len(series) - 1)]["open_files"], max(s["open_files"] for s in series[-3:])
    fds_flat = last_fds <= base_fds + 8
    acked = sent.get(201, 0)
    return {
        "minutes": minutes, "series": series, "messages_acknowledged": acked,
        "delivered": sum(1 for v in delivered.values() if v), "doubled": sum(1 for v in delivered.values() if len(v) > 1),
        "statuses": dict(sorted(tally.statuses.items())), "error_codes": dict(tally.codes),
        "server_5xx": tally.server_errors, "transport_errors": dict(tally.transport_errors),
        "rss": rss, "open_files_flat": fds_flat,
        "verdict": rss["verdict"] if fds_flat else "GROWING (open files)",
    }


def judge_rss(samples: list[float]) -> dict:
    """Flat, settling or growing, from the per-minute RSS after the first (warm-up) minute.

    flat: within 10 % (or 16 MiB) of the first settled sample throughout.
    settling: not flat, but the second half grows at most 1.5 MiB/min and at most half
    as fast as the first half (caches filling up to their bound, not a leak).
    """
    settled = samples[1:] if len(samples) > 2 else samples
    base = settled[0]
    half = len(settled) // 2
    first, second = settled[:half + 1], settled[half:]
    rate1 = (first[-1] - first[0]) / max(1, len(first) - 1)
    rate2 = (second[-1] - second[0]) / max(1, len(second) - 1)
    if max(settled) <= max(base * 1.10, base + 16):
        verdict = "flat"
    elif rate2 <= 1.5 and rate2 <= rate1 / 2:
        verdict = "settling"
    else:
        verdict = "GROWING"
    return {"verdict": verdict, "first_half_mib_per_min": round(rate1, 2),
            "second_half_mib_per_min": round(rate2, 2), "growth_mib": round(settled[-1] - base, 1)}


# --- main ----------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--soak", type=float, nargs="?", const=10.0, metavar="MINUTES",
                        help="run the soak for MINUTES (default 10) instead of load + logins")
    parser.add_argument("--senders", type=int, default=100)
    parser.add_argument("--messages", type=int, default=50, help="messages per sender")
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.0, metavar="SECONDS",
                        help="each sender sends one message every SECONDS (default 0: as fast as answered)")
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="chatkit-load-") as tmp:
        server = Server(Path(tmp) / "data")
        results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine()}
        try:
            if args.soak:
                print(f"soak: {args.soak:g} minutes of mixed traffic against {server.url}", flush=True)
                results["soak"] = asyncio.run(run_soak(server, args.soak))
            else:
                print(f"load: {args.senders} senders x {args.messages} messages, {args.pollers} long polls "
                      f"waiting, against {server.url}", flush=True)
                results["load"] = asyncio.run(run_load(server, args.senders, args.messages, args.pollers,
                                                       interval=args.interval))
                print(f"logins: {args.logins} concurrent, twice", flush=True)
                results["logins"] = asyncio.run(run_logins(server, args.logins))
            results["server_peak_rss_mib"] = round(server.peak_rss() / 1_048_576)
        finally:
            server.stop()
        results["server_log"] = log_trouble(server.log())
        results["server_db"] = server_db_check(server.data_dir / "server.db")
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok(results) else 1


def machine() -> str:
    import platform

    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def ok(results) -> bool:
    trouble = results["server_log"]["database is locked"] + results["server_log"]["Traceback"]
    db = results["server_db"]
    good = trouble == 0 and db["integrity"] == "ok" and db["doubled"] == 0
    if "load" in results:
        load = results["load"]
        good &= load["server_5xx"] == 0 and load["lost"] == 0 and load["doubled"] == 0
        good &= load["exactly_once"] == load["acknowledged"] == load["messages"]
        good &= all(r["http_500"] == 0 for r in results["logins"].values())
    if "soak" in results:
        soak = results["soak"]
        good &= soak["server_5xx"] == 0 and soak["doubled"] == 0 and soak["verdict"] in ("flat", "settling")
    return good


def report(results):
    print()
    print(f"date {results['date']}; {results['machine']}")
    if "load" in results:
        r = results["load"]
        pace = (f"one message every {r['interval_s']:g} s per sender (offered {r['senders'] / r['interval_s']:.0f} msg/s)"
                if r["interval_s"] else "each sender as fast as the server answers")
        print(f"load: {r['senders']} senders x {r['messages'] // r['senders']} messages with {r['pollers']} long polls "
              f"waiting ({r['accounts']} accounts, logged in in {r['setup_s']} s); {pace}")
        print(f"  acknowledged {r['acknowledged']}/{r['messages']}, delivered exactly once {r['exactly_once']}, "
              f"lost {r['lost']}, doubled {r['doubled']}")
        print(f"  {r['throughput_msg_s']} messages/s over {r['send_wall_s']} s; "
              f"send p50 {r['send_p50_ms']} ms, p99 {r['send_p99_ms']} ms; "
              f"delivery p50 {r['delivery_p50_ms']} ms, p99 {r['delivery_p99_ms']} ms")
        print(f"  CPU while sending: server {r['cpu_s_server']} s, load generator {r['cpu_s_load_generator']} s; "
              f"machine load average {r['load_average']:.1f} ({os.cpu_count()} CPUs)")
        print(f"  statuses {r['statuses']}, errors {r['error_codes'] or 'none'}, 5xx {r['server_5xx']}, "
              f"transport errors {r['transport_errors'] or 'none'}")
        for phase, s in results["logins"].items():
            print(f"logins, {phase}: statuses {s['statuses']} (500s: {s['http_500']}) in {s['wall_s']} s, "
                  f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms; RSS {s['rss_before_mib']} → peak "
                  f"{s['rss_peak_mib']} MiB (+{s['rss_growth_mib']} MiB)")
    if "soak" in results:
        r = results["soak"]
        print(f"soak: {r['minutes']:g} minutes, {r['messages_acknowledged']} messages acknowledged, "
              f"{r['delivered']} delivered, {r['doubled']} doubled, 5xx {r['server_5xx']}")
        print("  minute  RSS MiB  open files")
        for s in r["series"]:
            print(f"  {s['minute']:>6}  {s['rss_mib']:>7}  {s['open_files']:>10}")
        print(f"  verdict: {r['verdict']} (RSS after minute 1: +{r['rss']['growth_mib']} MiB, "
              f"{r['rss']['first_half_mib_per_min']} MiB/min in the first half, "
              f"{r['rss']['second_half_mib_per_min']} MiB/min in the second; "
              f"open files flat: {r['open_files_flat']})")
        print(f"  statuses {r['statuses']}, errors {r['error_codes'] or 'none'}")
    print(f"server: peak RSS {results.get('server_peak_rss_mib')} MiB; log: {results['server_log']}; "
          f"server.db: {results['server_db']}")
    print("OK" if ok(results) else "FAILED")


if __name__ == "__main__":
    sys.exit(main())
