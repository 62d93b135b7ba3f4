"""What the commands that talk to the server share: the session, the store, message lines.

Library imports happen inside the functions so that `chatkit --help` and the
read-only commands never pay for Pony or httpx.
"""

from __future__ import annotations

import re
import sys
import threading

from chatkit.errors import UsageError

from ..main import data_dir_of

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
MAX_BODY = 10_000

_print_lock = threading.Lock()


def session_of(ctx):
    """The logged-in Session (NotLoggedIn, exit 3, when there is none)."""
    from chatkit.client.session import current_account

    return current_account(data_dir_of(ctx))


def store_of(ctx):
    """The opened (created, upgraded) client.db of this data dir."""
    from chatkit import config
    from chatkit.client.store import open_client_store

    return open_client_store(config.client_db_path(data_dir_of(ctx)))


def check_username(name: str, what: str = "user name") -> str:
    if not USERNAME.fullmatch(name):
        raise UsageError(f"{name!r} is not a valid {what}: 1 to 32 letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit.")
    return name


def check_body(text: str) -> str:
    if not text.strip():
        raise UsageError("The message is empty; write some text after the name.")
    if len(text) > MAX_BODY:
        raise UsageError(f"The message has {len(text):,} characters; the limit is {MAX_BODY:,}.")
    return text


def message_line(message: dict, tz, *, account: str | None = None, partner: str | None = None) -> str:
    """'[14:05] bob: hello' — with '(bob's chat)' when it belongs to another conversation."""
    from ..output import humanize

    stamp = humanize(message["sent_at"], tz) or "--:--"
    who = "you" if account is not None and message["sender"] == account else message["sender"]
    text = message["body"]
    if partner is not None and message["peer"].lower() != partner.lower():
        return f"[{stamp}] {who} (chat with {message['peer']}): {text}"
    return f"[{stamp}] {who}: {text}"


def say(text: str, *, err: bool = False) -> None:
    """One line, whole, even when background threads print too."""
    stream = sys.stderr if err else sys.stdout
    with _print_lock:
        stream.write(text + "\n")
        stream.flush()


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
