"""Export and import: the archive as JSON Lines, one DESIGN.md message a line.

Import is all or nothing and fast. Every line is checked; the rows go in with
`executemany` on one connection inside ONE transaction, with the per-row
conversation and FTS triggers dropped for the bulk and their work done once
at the end (`rebuild_conversations` for the touched peers, one INSERT ...
SELECT into `messages_fts` for the new rowids), then the triggers re-created
from their own stored SQL. A bad line raises before COMMIT, so the rollback
leaves the archive exactly as it was, triggers included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Iterator

from ..errors import ChatkitError
from ..textfold import fold
from .archive import MESSAGE_COLUMNS, resolve_peer
from .reads import transaction
from .shapes import MESSAGE_KEYS

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
STATUSES = {"out": ("pending", "sent", "failed"), "in": ("unread", "read")}
MAX_BODY = 10_000
PROGRESS_EVERY = 10_000
BULK_CACHE_KIB = -256 * 1024  # negative: KiB, as PRAGMA cache_size takes it
# Re-created in this order, FTS first: with the conversation triggers defined
# before the FTS ones (as m001/m002 leave them), SQLite 3.40 fails the next
# INSERT of any *other* open connection after a schema change with "no such
# table: messages"; in this order it does not (tests/test_client_archive_transfer.py).
BULK_TRIGGERS = ("messages_ai", "messages_ad", "messages_au",
                 "messages_conv_ai", "messages_conv_ad", "messages_conv_au")
_KEYS = frozenset(MESSAGE_KEYS)


class ImportRejected(ChatkitError):
    """A line of an import file is not a valid message; nothing was imported."""

    code = "bad_import"
    message = "The import file is not valid; nothing was imported."


@dataclass
class ImportResult:
    imported: int
    already_present: int


def export_messages(conn, account: str, peer: str | None = None) -> Iterator[dict]:
    """The archive of `account` (or one conversation), oldest first, as message dicts."""
    if peer is None:
        cursor = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE account = ? ORDER BY sent_at, id",
            (account,))
    else:
        cursor = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE account = ? AND peer = ? "
            "ORDER BY sent_at, id", (account, resolve_peer(conn, account, peer) or peer))
    for row in cursor:
        yield dict(zip(MESSAGE_KEYS, row))


class _Bad(Exception):
    pass


_EXPORTED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")


def _db_time(text) -> str:
    """ISO 8601 with a time of day ('Z', an offset, or naive = UTC) → stored naive-UTC text."""
    if type(text) is not str or not 19 <= len(text) <= 40 or text[10] not in "T ":
        raise _Bad("'sent_at' must be an ISO 8601 time such as 2026-12-04T16:17:00Z")
    try:
        if _EXPORTED_TIME.fullmatch(text):  # export's own form: check the values, then reshape
            datetime.fromisoformat(text[:-1])
            return f"{text[:10]} {text[11:-1]}" if len(text) == 27 else f"{text[:10]} {text[11:19]}.000000"
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"'sent_at' {text!r} is not a valid ISO 8601 time") from None
    if value.tzinfo is not None:
        offset = value.utcoffset()
        value = (value - offset if offset else value).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def check_message(obj, account: str, names: set) -> tuple:
    """One decoded line → the row to insert, or _Bad saying what is wrong with it."""
    if type(obj) is not dict:
        raise _Bad("not a JSON object")
    if obj.keys() != _KEYS:
        missing = sorted(_KEYS - obj.keys())
        extra = sorted(obj.keys() - _KEYS)
        raise _Bad("; ".join(
            ([f"missing key{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}"] if missing else [])
            + ([f"unexpected key{'s' * (len(extra) > 1)} {', '.join(map(repr, extra))}"] if extra else [])))
    uid, peer, direction = obj["id"], obj["peer"], obj["direction"]
    sender, recipient, body, status = obj["sender"], obj["recipient"], obj["body"], obj["status"]
    if type(uid) is not str or not UUID.fullmatch(uid):
        raise _Bad(f"'id' must be a UUID, not {uid!r}")
    for key, name in (("peer", peer), ("sender", sender), ("recipient", recipient)):
        if type(name) is not str or (name not in names and not USERNAME.fullmatch(name)):
            raise _Bad(f"{key!r} must be a username, not {name!r}")
        names.add(name)
    if direction == "out":
        if sender != account or recipient != peer:
            raise _Bad(f"an outgoing message must have sender {account!r} (the account) "
                       f"and recipient {peer!r} (the peer)")
    elif direction == "in":
        if sender != peer or recipient != account:
            raise _Bad(f"an incoming message must have sender {peer!r} (the peer) "
                       f"and recipient {account!r} (the account)")
    else:
        raise _Bad(f"'direction' must be 'in' or 'out', not {direction!r}")
    if status not in STATUSES[direction]:
        allowed = " or ".join(repr(s) for s in STATUSES[direction])
        raise _Bad(f"'status' of {'an incoming' if direction == 'in' else 'an outgoing'} "
                   f"message must be {allowed}, not {status!r}")
    if type(body) is not str or not 0 < len(body) <= MAX_BODY:
        raise _Bad(f"'body' must be text of 1 to {MAX_BODY:,} characters")
    return (uid.lower(), account, peer, direction, sender, recipient, body, fold(body),
            _db_time(obj["sent_at"]), status)


INSERT = (
    "INSERT INTO messages (uuid, account, peer, direction, sender, recipient, body, body_folded, "
    "sent_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (account, sender, uuid) DO NOTHING"
)


def import_messages(conn, lines: Iterable[str | bytes], account: str, *, source: str = "the file",
                    progress: Callable[[str, int, int], None] | None = None) -> ImportResult:
    """Add the messages in `lines` (JSON Lines) to `account`'s archive, all or nothing.

    Idempotent by (account, sender, id): messages already present are counted,
    not changed. Imported outgoing messages that were `pending` or `failed` get
    their outbox row, so nothing that was waiting is forgotten. `progress` is
    called as progress(stage, lines_done, bytes_done), stage 'reading' every few
    thousand lines and 'indexing' once before the final bookkeeping.
    Raises ImportRejected naming the first bad line; the archive is then unchanged.
    """
    counts = {"lines": 0, "rows": 0, "bytes": 0}
    peers: set[str] = set()
    names: set[str] = set()

    def rows():
        loads, nbytes, number = json.loads, 0, 0
        try:
            for number, line in enumerate(lines, 1):
                nbytes += len(line)
                if not line.strip():
                    continue
                try:
                    row = check_message(loads(line), account, names)
                except _Bad as exc:
                    raise _reject(source, number, str(exc)) from None
                except ValueError as exc:  # JSON (and UTF-8) errors
                    raise _reject(source, number, f"not valid JSON ({_json_reason(exc)})") from None
                peers.add(row[2])
                counts["rows"] += 1
                yield row
                if progress is not None and number % PROGRESS_EVERY == 0:
                    progress("reading", number, nbytes)
        finally:
            counts["lines"], counts["bytes"] = number, nbytes

    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {BULK_CACHE_KIB}")  # fewer spills of index pages mid-transaction
    try:
        with transaction(conn):
            after_id = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
            saved = _drop_bulk_triggers(conn)
            conn.executemany(INSERT, rows())
            if progress is not None:
                progress("indexing", counts["lines"], counts["bytes"])
            imported = conn.execute("SELECT count(*) FROM messages WHERE id > ?", (after_id,)).fetchone()[0]
            if imported:
                _rebuild(conn, account, sorted(peers))
                _index(conn, after_id)
                conn.execute(
                    "INSERT INTO outbox (message, state) SELECT id, "
                    "CASE status WHEN 'failed' THEN 'failed' ELSE 'pending' END FROM messages "
                    "WHERE id > ? AND direction = 'out' AND status IN ('pending', 'failed')", (after_id,))
            for sql in saved:
                conn.execute(sql)
    finally:
        conn.execute(f"PRAGMA cache_size = {cache}")
    if imported > 50_000:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ImportResult(imported=imported, already_present=counts["rows"] - imported)


def _reject(source: str, number: int, reason: str) -> ImportRejected:
    return ImportRejected(f"{source}, line {number}: {reason}. Nothing was imported; "
                          "fix that line and import the file again.")


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return getattr(exc, "msg", None) or str(exc)


def _drop_bulk_triggers(conn) -> list[str]:
    """Drop the per-row conversation and FTS triggers; return their SQL, in BULK_TRIGGERS order."""
    marks = ",".join("?" * len(BULK_TRIGGERS))
    saved = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages' "
        f"AND name IN ({marks})", BULK_TRIGGERS).fetchall()
    for name, _ in saved:
        conn.execute(f'DROP TRIGGER "{name}"')
    saved.sort(key=lambda row: BULK_TRIGGERS.index(row[0]))
    return [sql for _, sql in saved]


def _rebuild(conn, account: str, peers: list[str]) -> None:
    """The conversation rows of the touched peers, recomputed once (migrations' own SQL)."""
    import sqlite_utils

    from .migrations import rebuild_conversations

    rebuild_conversations(sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False),
                          account, peers)


def _index(conn, after_id: int) -> None:
    """Index just the new rowids in messages_fts, whatever columns the index has."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(messages_fts)")]
    if not columns:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    conn.execute(f"INSERT INTO messages_fts (rowid, {cols}) SELECT id, {cols} FROM messages "
                 "WHERE id > ?", (after_id,))
