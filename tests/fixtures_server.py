"""Fixtures for the server tests (a pytest plugin loaded by conftest).

`live_server` runs the real `chatkit server` as a subprocess on a free
loopback port; other areas' tests use it too, so its interface is stable:

    live_server.url        "http://127.0.0.1:PORT"
    live_server.data_dir   the server's own data dir (holds server.db)
    live_server.db_path    data_dir / "server.db"
    live_server.log_text() everything the server logged so far
    live_server.stop()     Ctrl-C (SIGINT) and wait; SIGKILL if it hangs
    live_server.kill()     SIGKILL, no clean-up (crash test)
    live_server.restart()  start again on the same port and file

`live_server_factory(data_dir=None, threads=None)` starts more servers. Every
server is stopped at teardown. `app` / `client` give an in-process app with fast
(test-only) argon2 parameters, and `login(client, name)` returns a token.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """One `chatkit server` process (see the module docstring)."""

    def __init__(self, data_dir: Path, port: int | None = None, threads: int | None = None,
                 startup_timeout: float = 20.0):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.log_path = self.data_dir / "server.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "server.db"

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    def start(self) -> "LiveServer":
        args = [sys.executable, "-m", "chatkit_cli", "--data-dir", str(self.data_dir),
                "server", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.threads:
            args += ["--threads", str(self.threads)]
        self._log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chatkit server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"chatkit server did not answer /api/health in time:\n{self.log_text()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """Ctrl-C and wait; returns the exit code."""
        if self.running:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self._finish()

    def kill(self) -> int | None:
        """SIGKILL: the process gets no chance to clean up."""
        if self.running:
            self.proc.kill()
            self.proc.wait()
        return self._finish()

    def restart(self) -> "LiveServer":
        self.stop()
        return self.start()

    def _finish(self):
        code = self.proc.returncode if self.proc else None
        if self._log:
            self._log.close()
            self._log = None
        return code


@pytest.fixture
def live_server_factory(tmp_path):
    servers: list[LiveServer] = []

    def make(data_dir=None, threads=None) -> LiveServer:
        folder = Path(data_dir) if data_dir else tmp_path / f"server-data-{len(servers)}"
        server = LiveServer(folder, threads=threads)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop(timeout=10)  # falls back to SIGKILL if Ctrl-C does not end it


@pytest.fixture
def live_server(live_server_factory) -> LiveServer:
    """A running `chatkit server` on a free loopback port, stopped at teardown."""
    return live_server_factory()


# --- in-process app ---------------------------------------------------------

@pytest.fixture
def app(tmp_path):
    from chatkit.server import create_app
    from chatkit.server.passwords import FAST_PARAMS

    application = create_app({"TESTING": True, "DATABASE": str(tmp_path / "srv" / "server.db"),
                              "ARGON2": FAST_PARAMS})
    yield application
    application.extensions["chatkit"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="alice", password="password1") -> str:
    """Log in (registering on first use) and return the token."""
    reply = client.post("/api/login", json={"username": username, "password": password})
    assert reply.status_code in (200, 201), reply.get_json()
    return reply.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
