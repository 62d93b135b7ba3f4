"""Start Datasette on the data dir's databases, with our metadata and plugin.

`browse_server()` checks everything a person could get wrong first (no data
dir, no database, a file that is not SQLite, a port in use) and raises a
ChatkitError saying so; only then does it start Datasette in a child process
(`python -m chatkit.browse.serve`), wait until it answers, and return a handle.
Databases are served mutable, never with `-i`: they may be live.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ChatkitError, StoreError, UsageError

METADATA = Path(__file__).resolve().parent / "metadata.yml"
DATABASES = ("client.db", "server.db")
SETTINGS = {
    "sql_time_limit_ms": "10000",  # one local user; per-day counts over a million messages take 1-3 s
    "allow_download": "off",
    "facet_time_limit_ms": "1000",
}
STARTUP_TIMEOUT = 30.0


class BrowseError(ChatkitError):
    code = "browse_failed"
    message = "Datasette could not be started."


@dataclass
class BrowseServer:
    """A running Datasette child process."""

    proc: subprocess.Popen
    url: str
    databases: list[Path] = field(default_factory=list)

    def wait(self) -> int:
        return self.proc.wait()

    def stop(self, timeout: float = 10.0) -> int:
        """Ctrl-C for the child (SIGINT), then SIGKILL if it does not finish in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def browse_databases(data_dir) -> list[Path]:
    """The databases to serve: client.db and/or server.db, checked and brought up to date."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise StoreError(f"There is no data dir at {data_dir}; run `chatkit demo` or log in and sync first.")
    found = [data_dir / name for name in DATABASES if (data_dir / name).is_file()]
    if not found:
        raise StoreError(f"No client.db or server.db in {data_dir}; run `chatkit demo` or log in and sync first.")
    for path in found:
        _check_sqlite(path)
    if data_dir / "client.db" in found:
        _upgrade_client(data_dir / "client.db")
    return found


def _check_sqlite(path: Path) -> None:
    from ..client.store import store_error

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from None


def _upgrade_client(path: Path) -> None:
    """An archive from before the search index gets it now, so the search box works."""
    from ..client.schema_version import SCHEMA_VERSION
    from ..client.store import check_version, open_client_store

    version = check_version(path)
    if version is not None and version < SCHEMA_VERSION:
        open_client_store(path).close()


def browse_command(databases: list[Path], host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    """The child's command line: Datasette's `serve` with our metadata and settings."""
    args = [sys.executable, "-m", "chatkit.browse.serve", "serve", *map(str, databases),
            "--metadata", str(METADATA), "--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        args += ["--setting", name, value]
    return args


def browse_server(data_dir, host: str = "127.0.0.1", port: int = 8001, tz: str | None = None) -> BrowseServer:
    """Start Datasette on the data dir and return once it answers HTTP."""
    from .. import config

    databases = browse_databases(data_dir)
    _check_port(host, port)
    env = dict(os.environ)
    zone = config.tz_name(tz)
    if zone:  # SQLite's 'localtime' (per-day queries) follows TZ
        config.local_zone(zone)  # a bad name is a usage error, not a silent UTC
        env["TZ"] = zone
    proc = subprocess.Popen(browse_command(databases, host, port), env=env)
    server = BrowseServer(proc=proc, url=f"http://{_url_host(host)}:{port}/", databases=databases)
    _wait_ready(server, host, port)
    return server


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _check_port(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise UsageError(f"Cannot listen on {host!r}: not an address of this machine.") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"Cannot listen on {host}:{port} ({exc.strerror}); "
                             "pick another with --port.") from None


def _wait_ready(server: BrowseServer, host: str, port: int) -> None:
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    url = f"http://{_url_host(probe_host)}:{port}/-/versions.json"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BrowseError(f"Datasette exited with status {server.proc.returncode} before serving "
                              f"{server.url}; see its messages above.")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    server.stop()
    raise BrowseError(f"Datasette did not answer on {server.url} within {STARTUP_TIMEOUT:.0f} seconds.")
