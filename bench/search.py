"""`python -m bench.search`: chatkit search against raw FTS5 and a LIKE scan, side by side.

The archive is bench/generate.py's million messages, imported with the real
import path (chatkit.client.transfer) plus a few rare messages, cached under
bench/out/. Each query kind runs through `search_messages()` (connect, check
the version, parse, query, highlight, shape) and, interleaved, as the same
query written by hand: connect, one FTS5 statement with snippet() and
LIMIT 20, fetch, close. The LIKE scan is the no-index way to search newest
first. Printed: p50 of each, the ratio library/raw (target <= 1.5x), the
speed-up over LIKE, and the query plans of the `with:` filter both ways.

    python -m bench.search [--rows 1000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from pathlib import Path

from . import generate

RARE = [  # a handful of messages with a word nothing else uses
    {"peer": None, "body": "Die Zeppelinfahrt über den Bodensee war traumhaft"},
    {"peer": None, "body": "Zeppelinfahrt gebucht! Samstag 10 Uhr"},
    {"peer": None, "body": "Zeppelinfahrt? Nie wieder, mir war schlecht"},
]
SNIPPET = "snippet(messages_fts, 0, '[', ']', '…', 16)"
COLUMNS = "m.uuid, m.peer, m.direction, m.sender, m.recipient, m.body, m.sent_at, m.status"


def build(rows: int) -> Path:
    """The cached archive for `rows` messages, built through chatkit's own import."""
    import json
    import uuid

    from chatkit.client.reads import reading
    from chatkit.client.transfer import import_messages

    path = generate.OUT / f"search-{rows}.db"
    if path.exists():
        return path
    source = generate.generate(rows)
    tmp = path.with_suffix(".tmp.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    with reading(tmp) as conn, open(source, "rb") as lines:
        result = import_messages(conn, lines, generate.ACCOUNT, source=str(source))
        peers = [r[0] for r in conn.execute(
            "SELECT peer FROM conversations ORDER BY message_count DESC")]
        extra = []
        for i, rare in enumerate(RARE):
            extra.append(json.dumps({
                "id": str(uuid.UUID(int=i + 1, version=4)), "peer": peers[(i * 97) % len(peers)],
                "direction": "in", "sender": peers[(i * 97) % len(peers)], "recipient": generate.ACCOUNT,
                "body": rare["body"], "sent_at": f"2026-0{i + 1}-15T12:00:00Z", "status": "read"}))
        import_messages(conn, extra, generate.ACCOUNT)  # no ANALYZE: real archives have no stats
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    took = time.perf_counter() - started
    print(f"built {path.name}: {result.imported:,} messages imported in {took:.1f} s "
          f"({result.imported / took:,.0f} rows/s, FTS index included)")
    tmp.rename(path)
    return path


def peers(path: Path) -> tuple[str, str]:
    conn = sqlite3.connect(path)
    try:
        ordered = conn.execute("SELECT peer, message_count FROM conversations ORDER BY message_count DESC").fetchall()
    finally:
        conn.close()
    return ordered[0], ordered[-1]


def cases(big: str, small: str) -> list[tuple[str, str, str, str | None]]:
    """(label, chatkit query, raw FTS5 expression, peer filter)."""
    return [
        ("common word", "the", '"the"', None),
        ("rare word", "zeppelinfahrt", '"zeppelinfahrt"', None),
        ("prefix", "Straß*", '"straß"*', None),
        ("phrase", '"train is delayed"', '"train is delayed"', None),
        ("umlaut word", "übermorgen", '"übermorgen"', None),
        ("ß word (grüße)", "grüße", '"grüße"', None),
        ("with: big peer", f"grüße with:{big}", '"grüße"', big),
        ("with: small peer", f"grüße with:{small}", '"grüße"', small),
    ]


def raw_sql(sort: str, peer: str | None) -> str:
    """The query a person would write by hand (with the join order right)."""
    where = "messages_fts MATCH ? AND m.account = ?" + (" AND m.peer = ?" if peer else "")
    if sort == "rank":
        return (f"SELECT {COLUMNS}, {SNIPPET}, messages_fts.rank FROM messages_fts "
                f"CROSS JOIN messages m ON m.id = messages_fts.rowid WHERE {where} "
                "ORDER BY messages_fts.rank LIMIT 20")
    return (f"SELECT {COLUMNS}, {SNIPPET} FROM messages_fts "
            f"CROSS JOIN messages m ON m.id = messages_fts.rowid WHERE {where} "
            "ORDER BY m.sent_at DESC LIMIT 20")


def run_raw(path: Path, sql: str, params: list) -> list:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def like_sql(sort: str, peer: str | None) -> str:
    """Without an index: newest first can stop at 20 matches; ranking must see every match."""
    sql = f"SELECT {COLUMNS} FROM messages m WHERE m.account = ? AND m.body LIKE ?" + (" AND m.peer = ?" if peer else "")
    return sql + " ORDER BY m.sent_at DESC LIMIT 20" if sort == "date" else sql


def like_word(query: str) -> str:
    word = query.split()[0].strip('"').rstrip("*")
    return f"%{word}%"


def p50(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def interleaved(fns: dict, repeat: int, best: bool = False) -> dict:
    """Median ms of each function (and with best=True, the fastest run as "<name>_min"),
    run in turns so load on the machine hits all alike."""
    for fn in fns.values():
        fn()  # warm the page cache
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    result = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    if best:
        result.update({f"{name}_min": min(values) * 1000 for name, values in samples.items()})
    return result


TRAP = ("SELECT m.id FROM messages m JOIN messages_fts f ON f.rowid = m.id "
        "WHERE f.messages_fts MATCH ? AND m.account = ? AND m.peer = ? ORDER BY m.sent_at DESC LIMIT 20")


def plans(path: Path, query: str, peer: str) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of chatkit's statements and of the plain JOIN, newest first."""
    from chatkit.search import newest_sql, parse_query, ranked_sql

    parsed = parse_query(f"{query} with:{peer}")
    conn = sqlite3.connect(path)
    try:
        statements = {
            "chatkit rank": ranked_sql(parsed, generate.ACCOUNT, 20, "rank"),
            "chatkit date": newest_sql(parsed, generate.ACCOUNT, 20, "2025-01-01", 1),
            "plain JOIN date": (TRAP, [parsed.match, generate.ACCOUNT, peer]),
        }
        return {name: [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
                for name, (sql, params) in statements.items()}
    finally:
        conn.close()


def measure(path: Path, label: str, sort: str, repeat: int) -> dict:
    """One row of the table, measured in this (fresh) process."""
    from chatkit.search import search_messages

    account = generate.ACCOUNT
    (big, _), (small, _) = peers(path)
    _, query, expression, peer = next(c for c in cases(big, small) if c[0] == label)
    params = [expression, account] + ([peer] if peer else [])
    hits = run_raw(path, "SELECT count(*) FROM messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid "
                   "WHERE messages_fts MATCH ? AND m.account = ?" + (" AND m.peer = ?" if peer else ""), params)[0][0]
    started = time.perf_counter()
    ours = search_messages(path, query, account, sort=sort)
    if time.perf_counter() - started < 0.05:  # fast rows: more runs, so scheduler hiccups stay out of p50
        repeat = max(repeat, 41)
    theirs = run_raw(path, raw_sql(sort, peer), params)
    assert [h.message["id"] for h in ours] == [r[0] for r in theirs] or sort == "rank", (label, sort)
    assert len(ours) == len(theirs), (label, sort, len(ours), len(theirs))
    times = interleaved({
        "lib": lambda: search_messages(path, query, account, sort=sort),
        "raw": lambda: run_raw(path, raw_sql(sort, peer), params),
    }, repeat, best=True)
    like_params = [account, like_word(query)] + ([peer] if peer else [])
    times["like"] = p50(lambda: run_raw(path, like_sql(sort, peer), like_params), max(3, repeat // 3))
    times["hits"] = hits
    return times


def startup(path: Path, repeat: int) -> dict:
    """Whole processes: `chatkit search WORD --json` vs python with typer, rich and sqlite3 only."""
    import os
    import subprocess
    import sys
    import tempfile

    from chatkit.client.session import save_session

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        (data / "client.db").symlink_to(path)
        save_session(data, "http://127.0.0.1:9", generate.ACCOUNT, "bench")
        env = dict(os.environ, CHATKIT_DATA_DIR=str(data))
        sql = raw_sql("rank", None).replace("?", "'{}'").format('"zeppelinfahrt"'.replace("'", "''"), generate.ACCOUNT)
        commands = {
            "chatkit": [sys.executable, "-m", "chatkit_cli", "search", "zeppelinfahrt", "--json"],
            "floor": [sys.executable, "-c", "import json, sqlite3, typer, rich; "
                      f"print(json.dumps(sqlite3.connect({str(data / 'client.db')!r}).execute({sql!r}).fetchall()))"],
        }
        for args in commands.values():
            subprocess.run(args, env=env, capture_output=True, check=True)
        return interleaved({name: (lambda a=args: subprocess.run(a, env=env, capture_output=True, check=True))
                            for name, args in commands.items()}, repeat)


def main(argv=None) -> None:
    import json
    import subprocess
    import sys

    from chatkit.search import search_messages

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--one", nargs=2, metavar=("LABEL", "SORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    path = build(args.rows)
    if args.one:  # a child: one row, printed as JSON
        print(json.dumps(measure(path, args.one[0], args.one[1], args.repeat)))
        return
    (big, big_n), (small, small_n) = peers(path)
    account = generate.ACCOUNT
    print(f"search benchmark: {path.name}, big peer {big} ({big_n:,} messages), small peer {small} ({small_n:,})")
    print(f"p50 of {args.repeat} interleaved runs per row (41 for rows under 50 ms), each row in a fresh "
          "process, milliseconds.")
    print("raw = connect + the same FTS5 statement written by hand (snippet(), LIMIT 20) + close;")
    print("LIKE = no index: newest first stops at 20 matches, best first must read every match.")
    print("min ratio = fastest chatkit run / fastest raw run (steadier than p50 on a loaded machine).\n")
    header = (f"{'query':<18} {'sort':<5} {'hits':>7} {'chatkit':>9} {'raw FTS5':>9} {'ratio':>6} "
              f"{'min ratio':>9} {'LIKE':>9} {'vs LIKE':>8}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for label, *_ in cases(big, small):
        for sort in ("rank", "date"):
            child = subprocess.run(
                [sys.executable, "-m", "bench.search", "--rows", str(args.rows), "--repeat", str(args.repeat),
                 "--one", label, sort], capture_output=True, text=True, check=True)
            t = json.loads(child.stdout.strip().splitlines()[-1])
            ratio = t["lib"] / t["raw"]
            worst = max(worst, ratio)
            print(f"{label:<18} {sort:<5} {t['hits']:>7,} {t['lib']:>9.2f} {t['raw']:>9.2f} {ratio:>5.2f}x "
                  f"{t['lib_min'] / t['raw_min']:>8.2f}x {t['like']:>9.1f} {t['like'] / t['lib']:>7.1f}x", flush=True)
    print(f"\nworst ratio chatkit/raw: {worst:.2f}x (target <= 1.5x)")
    t = startup(path, args.repeat)
    print(f"start-up, whole process: `chatkit search zeppelinfahrt --json` {t['chatkit']:.0f} ms; "
          f"python -c 'import typer, rich, sqlite3; <raw query>' {t['floor']:.0f} ms; "
          f"{t['chatkit'] / t['floor']:.2f}x")

    print(f"\nquery plans for `zeppelinfahrt with:{big}` (a rare word on the biggest peer):")
    found = plans(path, "zeppelinfahrt", big)
    for name, steps in found.items():
        print(f"  {name}: " + " | ".join(steps))
    assert found["chatkit rank"][0].startswith("SCAN f VIRTUAL TABLE"), found
    assert found["chatkit date"][0].startswith("SCAN f VIRTUAL TABLE"), found
    started = time.perf_counter()
    run_raw(path, TRAP, ['"zeppelinfahrt"', account, big])
    trap = (time.perf_counter() - started) * 1000
    ours = {sort: p50(lambda: search_messages(path, f"zeppelinfahrt with:{big}", account, sort=sort), 5)
            for sort in ("rank", "date")}
    print(f"  plain JOIN, newest first: {trap:,.0f} ms (once); chatkit: {ours['rank']:.2f} ms by rank, "
          f"{ours['date']:.2f} ms by date")

if __name__ == "__main__":
    main()
