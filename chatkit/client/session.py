"""Who is logged in where: `<data-dir>/session.json`, readable only by its owner.

The token lives here and nowhere else on the client: never in client.db,
which Datasette serves (DESIGN.md section 3). The file is written atomically
(a 0600 temporary file renamed over the old one), so a crash leaves either
the old session or the new one, and no moment exists where another user
could read the token.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import config
from ..errors import NotLoggedIn, StoreError


@dataclass(frozen=True)
class Session:
    server: str
    username: str
    token: str


def normalize_server(url: str) -> str:
    """One spelling per server, so the sync cursor is not kept twice."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    return url


def load_session(data_dir) -> Session | None:
    """The saved session, or None when nobody is logged in (or the file is unusable)."""
    path = config.session_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Session(server=normalize_server(raw["server"]), username=str(raw["username"]),
                       token=str(raw["token"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save_session(data_dir, server: str, username: str, token: str) -> Session:
    session = Session(server=normalize_server(server), username=username, token=token)
    path = config.session_path(data_dir)
    _write_private(path, json.dumps(asdict(session), indent=2) + "\n")
    return session


def forget_session(data_dir) -> bool:
    """Remove session.json; True if there was one."""
    try:
        config.session_path(data_dir).unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"Cannot remove {config.session_path(data_dir)}: {exc.strerror}.") from None


def current_account(data_dir) -> Session:
    """The logged-in session; raises NotLoggedIn (exit 3) when there is none."""
    session = load_session(data_dir)
    if session is None:
        if config.session_path(data_dir).exists():
            raise NotLoggedIn(f"{config.session_path(data_dir)} is unreadable. "
                              "Run `chatkit login USER` to log in again.")
        raise NotLoggedIn()
    return session


def _write_private(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600 before anything is written.
        fd, tmp = tempfile.mkstemp(prefix=".session-", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StoreError(f"Cannot write the session in {path.parent}: {exc.strerror}; "
                         "check the permissions of the data dir.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise StoreError(f"Cannot write {path}: {exc.strerror}.") from None
