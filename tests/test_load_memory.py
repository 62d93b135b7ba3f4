"""Memory stays bounded under a burst of logins (argon2 costs ~19 MiB per hash).

Regression: glibc kept each freed argon2 buffer in a per-thread malloc arena
(its mmap threshold rises after the first big free), so a real `chatkit
server` went from ~43 MiB to ~410 MiB of RSS after 40 logins and kept growing
under traffic. `chatkit server` now fixes the threshold
(chatkit.server.serve.keep_hash_memory_returnable). bench/load.py measures
the same thing at 50 logins and over a 10-minute soak.
"""

from __future__ import annotations

import threading

import httpx
import pytest

pytestmark = pytest.mark.slow

LOGINS = 40


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_burst_of_logins_leaves_the_server_small(live_server):
    before = rss_mib(live_server.proc.pid)
    statuses = []

    def login(n):
        reply = httpx.post(live_server.url + "/api/login", timeout=60,
                           json={"username": f"burst{n:02d}", "password": "burst-password"})
        statuses.append(reply.status_code)

    threads = [threading.Thread(target=login, args=(n,)) for n in range(LOGINS)]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    assert sorted(set(statuses)) == [201], statuses
    after = rss_mib(live_server.proc.pid)
    # each hash needs ~19 MiB while it runs; kept buffers would be ~19 MiB per arena used
    assert after - before < 64, f"RSS grew from {before:.0f} to {after:.0f} MiB after {LOGINS} logins"


def test_each_server_connection_has_a_small_page_cache(tmp_path):
    """Regression: up to 256 waitress threads each keep a connection; at SQLite's default
    2 MiB cache per connection the soak's RSS kept climbing while server.db grew."""
    from pony.orm import db_session

    from chatkit.server.store import open_server_store

    store = open_server_store(tmp_path / "server.db")
    try:
        with db_session:
            assert store.db.execute("PRAGMA cache_size").fetchone() == (-128,)  # KiB: 32 MiB for 256 threads
    finally:
        store.close()
