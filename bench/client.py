"""Client archive benchmark: import, reads and start-up, each beside its plain equivalent.

    python -m bench.client                 # 1,000,000 messages (generated once, cached)
    python -m bench.client --rows 100000   # scaled down

Import (whole processes, file → committed rows, each into a fresh data dir):
  `chatkit import FILE` against a plain script (json.loads each line, one
  executemany into the same client.db schema in one transaction) run two
  ways — with the schema's triggers keeping `conversations` and the FTS index
  per row (the same end state as chatkit's import), and insert-only with those
  triggers dropped (the floor: no conversations, no search index) — and
  against `sqlite-utils insert bare.db messages FILE --nl` (a bare table).
Reads (in process, on the imported archive, interleaved, medians): the
  library's list_conversations / history / messages_on_day against the same
  hand-written SQL with fetchall on an open connection.
Start-up (whole processes taken in turn, medians): `chatkit conversations
  --json` against `python -c "import typer, rich, sqlite3; <same query>"`
  and `sqlite-utils query client.db "<same query>"`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import ACCOUNT, generate

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent
CHATKIT = str(BIN / "chatkit")
SQLITE_UTILS = str(BIN / "sqlite-utils")
DAY_ZONE = "Europe/Berlin"
CONVERSATIONS_SQL = ("SELECT peer, last_message_at, last_body, message_count, unread_count "
                     "FROM conversations WHERE account = 'kim' ORDER BY last_message_at DESC")
HISTORY_SQL = ("SELECT uuid, peer, direction, sender, recipient, body, sent_at, status FROM messages "
               "WHERE account = ? AND peer = ? ORDER BY sent_at DESC LIMIT 50")
DAY_SQL = ("SELECT uuid, peer, direction, sender, recipient, body, sent_at, status FROM messages "
           "WHERE account = ? AND sent_at >= ? AND sent_at < ? ORDER BY sent_at")
INSERT_SQL = ("INSERT INTO messages (uuid, account, peer, direction, sender, recipient, body, body_folded, "
              "sent_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


# --- the plain import script (run as its own process) -----------------------------

def plain_import(db: str, file: str, triggers: str) -> None:
    """json.loads each line, one executemany, one transaction: what a script would do."""
    from chatkit.textfold import fold

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    if triggers == "off":
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
    loads = json.loads

    def rows():
        with open(file, "rb") as handle:
            for line in handle:
                m = loads(line)
                t = m["sent_at"]
                yield (m["id"], ACCOUNT, m["peer"], m["direction"], m["sender"], m["recipient"],
                       m["body"], fold(m["body"]), f"{t[:10]} {t[11:-1]}", m["status"])

    conn.executemany(INSERT_SQL, rows())
    conn.execute("COMMIT")
    conn.close()


# --- helpers -----------------------------------------------------------------------

def fresh_data_dir(root: Path, name: str, schema: bool) -> Path:
    data = root / name
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    from chatkit.client.session import save_session

    save_session(data, server="http://127.0.0.1:9", username=ACCOUNT, token="bench")
    if schema:
        from chatkit.client.store import open_client_store

        open_client_store(data / "client.db").close()
    return data


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {result.stderr.strip()}")
    return elapsed


def count_rows(db: Path, table: str = "messages") -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def median_ms(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def line(label: str, ours: float, plain: float, unit: str, better: str = "lower") -> str:
    ratio = ours / plain if better == "lower" else plain / ours
    return f"  {label:<44} {ours:>10.3f} {unit}   plain {plain:>10.3f} {unit}   ratio {ratio:5.2f}x"


# --- the three parts ----------------------------------------------------------------

def bench_import(root: Path, file: Path, rows: int) -> Path:
    print(f"Import of {rows:,} messages ({file.stat().st_size / 1e6:.0f} MB), file → committed rows:")
    env = dict(os.environ, CHATKIT_DATA_DIR="", NO_COLOR="1")
    results = {}

    ours = fresh_data_dir(root, "ours", schema=False)
    results["chatkit import"] = timed([CHATKIT, "--data-dir", str(ours), "import", str(file)], env)
    assert count_rows(ours / "client.db") == rows

    for triggers in ("on", "off"):
        data = fresh_data_dir(root, f"plain-{triggers}", schema=True)
        results[f"plain, triggers {triggers}"] = timed(
            [sys.executable, "-m", "bench.client", "--plain-import", str(data / "client.db"), str(file),
             "--triggers", triggers], env)
        assert count_rows(data / "client.db") == rows
        shutil.rmtree(data)

    bare = root / "bare.db"
    bare.unlink(missing_ok=True)
    results["sqlite-utils insert --nl"] = timed([SQLITE_UTILS, "insert", str(bare), "messages", str(file), "--nl"])
    assert count_rows(bare) == rows
    bare.unlink()

    per_s = {name: rows / seconds for name, seconds in results.items()}
    for name, seconds in results.items():
        print(f"  {name:<28} {seconds:8.1f} s  {per_s[name]:>9,.0f} rows/s")
    mine = per_s["chatkit import"]
    print(f"  ratio chatkit / plain (triggers on: same end state) {mine / per_s['plain, triggers on']:.2f}x")
    print(f"  ratio chatkit / plain (triggers off: no conversations, no FTS) {mine / per_s['plain, triggers off']:.2f}x")
    print(f"  ratio chatkit / sqlite-utils insert --nl (bare table) {mine / per_s['sqlite-utils insert --nl']:.2f}x")
    return ours


def bench_reads(data: Path, repeat: int) -> None:
    from chatkit.client import archive

    db = data / "client.db"
    conn = sqlite3.connect(db)
    peers = conn.execute("SELECT peer, message_count FROM conversations WHERE account = ? "
                         "ORDER BY message_count DESC", (ACCOUNT,)).fetchall()
    big, small = peers[0], peers[-1]
    # The local day (in DAY_ZONE) whose message count is closest to 1,500.
    day_counts = conn.execute(
        "SELECT substr(sent_at, 1, 10) AS d, count(*) FROM messages WHERE account = ? GROUP BY d",
        (ACCOUNT,)).fetchall()
    conn.close()
    day = min(day_counts, key=lambda dc: abs(dc[1] - 1500))[0]
    start, end = archive.day_bounds(day, DAY_ZONE)
    bounds = (start.isoformat(" ", "microseconds"), end.isoformat(" ", "microseconds"))

    print(f"Reads (median of {repeat} calls each, open connection, library vs the same hand-written SQL):")
    with archive.open_archive(db) as ours:
        plain = sqlite3.connect(db)
        n_day = len(archive.messages_on_day(ours, ACCOUNT, day, DAY_ZONE))
        for peer, _ in (big, small):  # the first call marks unread ones read; measure the steady state
            archive.history(ours, ACCOUNT, peer)
        cases = [
            (f"conversations ({len(peers)} peers)",
             lambda: archive.list_conversations(ours, ACCOUNT),
             lambda: plain.execute(CONVERSATIONS_SQL).fetchall()),
            (f"history {big[0]} --limit 50 ({big[1]:,} msgs)",
             lambda: archive.history(ours, ACCOUNT, big[0]),
             lambda: plain.execute(HISTORY_SQL, (ACCOUNT, big[0])).fetchall()),
            (f"history {small[0]} --limit 50 ({small[1]:,} msgs)",
             lambda: archive.history(ours, ACCOUNT, small[0]),
             lambda: plain.execute(HISTORY_SQL, (ACCOUNT, small[0])).fetchall()),
            (f"day {day} {DAY_ZONE} ({n_day:,} msgs)",
             lambda: archive.messages_on_day(ours, ACCOUNT, day, DAY_ZONE),
             lambda: plain.execute(DAY_SQL, (ACCOUNT, *bounds)).fetchall()),
        ]
        for label, lib, raw in cases:
            lib_ms, raw_ms = [], []
            for _ in range(5):  # interleave, so load on the machine hits both alike
                lib_ms.append(median_ms(lib, max(1, repeat // 5)))
                raw_ms.append(median_ms(raw, max(1, repeat // 5)))
            print(line(label, statistics.median(lib_ms), statistics.median(raw_ms), "ms"))
        plain.close()


def bench_startup(data: Path, runs: int) -> None:
    db = str(data / "client.db")
    env = dict(os.environ, NO_COLOR="1", CHATKIT_DATA_DIR=str(data))
    floor = ("import typer, rich, sqlite3, json; "
             f"c = sqlite3.connect({db!r}); print(json.dumps(c.execute({CONVERSATIONS_SQL!r}).fetchall()))")
    commands = {
        "chatkit conversations --json": [CHATKIT, "conversations", "--json"],
        "python -c 'import typer, rich, sqlite3; query'": [sys.executable, "-c", floor],
        "sqlite-utils query": [SQLITE_UTILS, "query", db, CONVERSATIONS_SQL],
    }
    samples = {name: [] for name in commands}
    for name, cmd in commands.items():  # warm the page cache once
        timed(cmd, env)
    for _ in range(runs):
        for name, cmd in commands.items():
            samples[name].append(timed(cmd, env) * 1000)
    med = {name: statistics.median(s) for name, s in samples.items()}
    print(f"Start-up (whole process, median of {runs} runs taken in turn):")
    for name, value in med.items():
        print(f"  {name:<48} {value:8.0f} ms")
    ours = med["chatkit conversations --json"]
    print(f"  ratio chatkit / typer+rich+sqlite3 floor      {ours / med[list(med)[1]]:.2f}x  (target <= 1.5x)")
    print(f"  sqlite-utils query / chatkit                   {med['sqlite-utils query'] / ours:.2f}x  (target >= 3x)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="chatkit client archive benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200, help="calls per read measurement")
    parser.add_argument("--runs", type=int, default=15, help="process runs per start-up measurement")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    parser.add_argument("--plain-import", nargs=2, metavar=("DB", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--triggers", default="on", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain_import:
        return plain_import(*args.plain_import, args.triggers)

    file = generate(args.rows)
    root = Path(tempfile.mkdtemp(prefix="chatkit-bench-client-"))
    print(f"chatkit client benchmark: {args.rows:,} messages, {os.cpu_count()} cores, work dir {root}")
    try:
        data = bench_import(root, file, args.rows)
        bench_reads(data, args.repeat)
        bench_startup(data, args.runs)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
