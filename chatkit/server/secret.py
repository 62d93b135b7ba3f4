"""The server's own key, kept beside server.db but outside it.

`messages.digest` lets a retried send be compared after its body is erased.
A plain SHA-256 of the body would let anyone holding server.db confirm a
guessed message; an HMAC under a key that lives only in `server.key` (mode
0600, never served by Datasette) does not.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "server.key"


def load_or_create_key(database: str | os.PathLike) -> bytes:
    path = Path(database).resolve().parent / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.hex().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def keyed_digest(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
