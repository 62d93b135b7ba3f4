"""Real processes for the end-to-end tests: the `chatkit` CLI, and a proxy that loses replies."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

PASSWORD = "correct horse battery"


def ck(data_dir, *args, input: str | None = None, env: dict | None = None, timeout: float = 60):
    """Run `python -m chatkit_cli --data-dir DATA_DIR ARGS...` as a process."""
    full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), *map(str, args)],
                          input=input, capture_output=True, text=True, env=full_env, timeout=timeout)


def ck_ok(data_dir, *args, **kwargs):
    result = ck(data_dir, *args, **kwargs)
    assert result.returncode == 0, (args, result.returncode, result.stdout, result.stderr)
    return result


def ck_json(data_dir, *args):
    return json.loads(ck_ok(data_dir, *args, "--json").stdout)


def login(data_dir, name: str, server: str):
    """`chatkit login` as a person runs it (a process)."""
    return ck_ok(data_dir, "login", name, "--server", server, "--password-stdin", input=PASSWORD + "\n")


def session_for(data_dir, name: str, server: str):
    """A session.json from a direct HTTP login: set-up for tests about something else (saves a process)."""
    import httpx

    from chatkit.client.session import save_session

    reply = httpx.post(server + "/api/login", json={"username": name, "password": PASSWORD}, timeout=30)
    assert reply.status_code in (200, 201), reply.text
    return save_session(data_dir, server, reply.json()["username"], reply.json()["token"])


def post_as(session, to: str, body: str) -> None:
    """Put a message on the server for `to`, straight over HTTP (set-up, not the thing tested)."""
    import uuid

    import httpx

    reply = httpx.post(session.server + "/api/messages", headers={"Authorization": f"Bearer {session.token}"},
                       json={"id": str(uuid.uuid4()), "to": to, "body": body, "sent_at": "2026-12-04T10:00:00Z"},
                       timeout=30)
    assert reply.status_code == 201, reply.text


class DroppingProxy:
    """A TCP proxy on loopback. In `drop` mode it forwards the request to the server,
    waits until the server starts to answer (so the work is done and committed),
    then cuts the client's connection before a byte of the reply reaches it.
    In `forward` mode it passes everything through."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.mode = "drop"
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        if self.mode == "forward":
            _pump(upstream, client)
            return
        try:
            upstream.recv(1)  # the server answers only after its commit
            self.dropped += 1
        finally:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
