"""Analytics benchmark: per_day(messages_frame(...)) against the plain pandas way, as fresh processes.

    python -m bench.analytics                  # the 1,000,000-message archive (built once, cached)
    python -m bench.analytics --rows 100000    # scaled down
    python -m bench.analytics --skip-demo      # leave out the `chatkit demo` timing

Each way runs as its own process (imports included), in turn, `--repeat`
times; the figures are medians of wall seconds and peak RSS (from wait4),
with the child's CPU seconds beside them because other work on the machine
stretches wall time but not CPU time.

- chatkit: `analytics.per_day(analytics.messages_frame(db, tz, columns=["sent_at",
  "direction"], account="kim"))`
- plain `select *`: `pd.read_sql("select * from messages")`, `to_datetime(utc=True)`,
  `tz_convert`, `groupby` by local date and direction
- plain two columns: the same reading only `sent_at, direction` (the target: <= 1.2x)

Then `chatkit stats --by day --json` on the same archive (whole command) against
the two-column script, and `chatkit demo` (default size) on its own.

The archive is bench.generate's file imported with `chatkit import` into
bench/out/analytics-<rows>/ (git-ignored), reused by later runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import ACCOUNT, OUT, generate

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent
ZONE = "Europe/Berlin"

CHATKIT_WAY = """
import sys
from chatkit import analytics
df = analytics.messages_frame(sys.argv[1], tz=sys.argv[2], columns=["sent_at", "direction"], account="kim")
daily = analytics.per_day(df)
print(len(daily), int(daily["sent"].sum()), int(daily["received"].sum()))
"""

PLAIN_WAY = """
import sqlite3, sys
import pandas as pd
conn = sqlite3.connect(sys.argv[1])
df = pd.read_sql("select {columns} from messages", conn)
local = pd.to_datetime(df["sent_at"], utc=True).dt.tz_convert(sys.argv[2])
daily = df.groupby([local.dt.date, df["direction"]]).size().unstack(fill_value=0)
print(len(daily), int(daily["out"].sum()), int(daily["in"].sum()))
"""


def measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run `cmd` and take its wall time, peak RSS and CPU time from os.wait4."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=errors)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(map(str, cmd[:5]))} ... failed:\n{errors.read().decode().strip()}")
    return {"wall": wall, "rss": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime,
            "out": out.decode().strip()}


def medians(samples: list[dict]) -> dict:
    return {key: statistics.median(s[key] for s in samples) for key in ("wall", "rss", "cpu")} | {
        "out": samples[0]["out"]}


def archive(rows: int) -> Path:
    """client.db with `rows` messages for kim, imported through `chatkit import` once."""
    data = OUT / f"analytics-{rows}"
    db = data / "client.db"
    if db.exists():
        return data
    source = generate(rows)
    building = OUT / f"analytics-{rows}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    from chatkit.client.session import save_session

    save_session(building, server="http://127.0.0.1:9", username=ACCOUNT, token="bench")
    print(f"Building the archive: chatkit import {source.name} ...", flush=True)
    subprocess.run([str(BIN / "chatkit"), "--data-dir", str(building), "import", str(source)],
                   check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    shutil.rmtree(data, ignore_errors=True)
    building.rename(data)
    return data


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="chatkit analytics benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args(argv)

    data = archive(args.rows)
    db = str(data / "client.db")
    python = sys.executable
    ways = {
        "chatkit": [python, "-c", CHATKIT_WAY, db, ZONE],
        "plain select *": [python, "-c", PLAIN_WAY.format(columns="*"), db, ZONE],
        "plain two columns": [python, "-c", PLAIN_WAY.format(columns="sent_at, direction"), db, ZONE],
    }
    samples = {name: [] for name in ways}
    for _ in range(args.repeat):
        for name, cmd in ways.items():
            samples[name].append(measured(cmd))
    result = {name: medians(s) for name, s in samples.items()}
    load = os.getloadavg()[0]
    print(f"per_day(messages_frame(...)) on {args.rows:,} messages, fresh processes, median of "
          f"{args.repeat} (load average {load:.1f}, {os.cpu_count()} cores):")
    for name, r in result.items():
        print(f"  {name:<20} {r['wall']:6.2f} s wall {r['cpu']:6.2f} s CPU {r['rss']:7.0f} MiB peak   "
              f"days, sent, received: {r['out']}")
    ours = result["chatkit"]
    for name in ("plain two columns", "plain select *"):
        plain = result[name]
        print(f"  chatkit vs {name:<18} {ours['wall'] / plain['wall']:4.2f}x time "
              f"({ours['cpu'] / plain['cpu']:4.2f}x CPU), {ours['rss'] / plain['rss']:4.2f}x memory")
    if ours["out"].split()[1:] != result["plain two columns"]["out"].split()[1:]:
        print("  !! the totals differ between chatkit and the plain way")

    env = dict(os.environ, CHATKIT_DATA_DIR=str(data), NO_COLOR="1")
    stats = medians([measured([str(BIN / "chatkit"), "stats", "--by", "day", "--json", "--tz", ZONE], env)
                     for _ in range(args.repeat)])
    plain = result["plain two columns"]
    print(f"chatkit stats --by day --json: {stats['wall']:.2f} s wall, {stats['cpu']:.2f} s CPU, "
          f"{stats['rss']:.0f} MiB   plain two columns {plain['wall']:.2f} s   "
          f"ratio {stats['wall'] / plain['wall']:.2f}x")

    if not args.skip_demo:
        with tempfile.TemporaryDirectory() as tmp:
            demo = measured([str(BIN / "chatkit"), "--data-dir", str(Path(tmp) / "data"), "demo"],
                            dict(os.environ, NO_COLOR="1"))
        print(f"chatkit demo (3,000 messages, 60 days, 6 people): {demo['wall']:.1f} s wall, "
              f"{demo['cpu']:.1f} s CPU, {demo['rss']:.0f} MiB peak (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
