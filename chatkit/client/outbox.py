"""The durable outbox: what a person typed is stored before the network is touched.

`record_outgoing` writes the message (status `pending`) and its outbox row in
one transaction; only the server's 201/200 (`mark_delivered`) removes the row.
Network trouble (`mark_retry`) counts an attempt and pushes `next_attempt_at`
back exponentially (capped); a refusal for good (`mark_failed`, e.g. unknown
recipient) parks the entry as `failed` until `retry_all` or `drop`.

Writes go through Pony inside short `transaction()`s, never held across a
network call. `list_outbox` and `find_entry` read with plain sqlite3 so that
`chatkit outbox` starts without importing Pony.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta
from uuid import uuid4

from ..errors import ChatkitError, NotFoundLocally, UsageError
from ..timefmt import utcnow

BACKOFF_BASE = 2.0  # seconds before the first automatic retry
BACKOFF_CAP = 120.0  # never wait longer than this between automatic retries
MIN_PREFIX = 6

ENTRY_SQL = """
    SELECT m.id AS message_id, m.uuid, m.peer, m.recipient, m.body, m.sent_at, m.status,
           o.state, o.attempts, o.last_error, o.last_attempt_at, o.next_attempt_at
    FROM outbox o JOIN messages m ON m.id = o.message
"""


def backoff(attempts: int) -> timedelta:
    """Delay after the n-th failed attempt: 2 s, 4 s, 8 s, ... capped at two minutes."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


# --- writing (Pony) -------------------------------------------------------------

@contextmanager
def transaction(store):
    """One short write transaction (BEGIN IMMEDIATE); SQLite trouble becomes a StoreError."""
    from pony.orm import db_session

    from .store import store_error

    try:
        with db_session(immediate=True):
            yield store.entities
    except ChatkitError:
        raise
    except Exception as exc:
        cause = root_cause(exc)
        if isinstance(cause, sqlite3.Error) or _is_pony_db_error(exc):
            raise store_error(store.path, cause) from None
        raise


def record_outgoing(store, account: str, peer: str, body: str, *, now: datetime | None = None,
                    uuid: str | None = None) -> dict:
    """Store a new outgoing message and its outbox row in one transaction; returns the entry."""
    now = now or utcnow()
    with transaction(store) as e:
        peer = known_spelling(e, account, peer)
        message = e.Message(uuid=uuid or str(uuid4()), account=account, peer=peer, direction="out",
                            sender=account, recipient=peer, body=body, sent_at=now, status="pending")
        entry = e.Outbox(message=message, attempts=0, state="pending", next_attempt_at=now)
        entry.flush()  # assigns the ids
        return _entry(entry)


def pending_entries(store, account: str, *, due_by: datetime | None = None) -> list[dict]:
    """Entries waiting to be delivered, oldest first; with `due_by`, only those whose backoff is over."""
    from pony.orm import select

    with transaction(store) as e:
        query = select(o for o in e.Outbox if o.message.account == account and o.state == "pending")
        if due_by is not None:
            query = query.filter(lambda o: o.next_attempt_at is None or o.next_attempt_at <= due_by)
        rows = query.order_by(lambda o: (o.message.sent_at, o.message.id))[:]
        return [_entry(o) for o in rows]


def next_due(store, account: str) -> datetime | None:
    """When the earliest pending entry may be retried automatically (None: nothing waits)."""
    from pony.orm import min as pony_min

    with transaction(store) as e:
        return pony_min(o.next_attempt_at for o in e.Outbox
                        if o.message.account == account and o.state == "pending")


def mark_delivered(store, message_id: int, received_at: datetime | None) -> None:
    """The server has the message: status `sent`, outbox row gone."""
    with transaction(store) as e:
        message = e.Message.get(id=message_id)
        if message is None:  # dropped meanwhile; the server has it anyway
            return
        message.status = "sent"
        message.received_at = received_at or utcnow()
        if message.outbox is not None:
            message.outbox.delete()


def _count_attempt(entry, error: str, now: datetime) -> None:
    entry.attempts += 1
    entry.last_error = error
    entry.last_attempt_at = now


def mark_retry(store, message_id: int, error: str, *, now: datetime | None = None) -> dict | None:
    """Network trouble: count the attempt, remember why, back off before the next automatic try."""
    now = now or utcnow()
    with transaction(store) as e:
        entry = _outbox_of(e, message_id)
        if entry is None:
            return None
        _count_attempt(entry, error, now)
        entry.next_attempt_at = now + backoff(entry.attempts)
        return _entry(entry)


def mark_failed(store, message_id: int, error: str, *, now: datetime | None = None) -> dict | None:
    """The server refused it for good: park it as `failed` with the server's sentence."""
    now = now or utcnow()
    with transaction(store) as e:
        entry = _outbox_of(e, message_id)
        if entry is None:
            return None
        _count_attempt(entry, error, now)
        entry.next_attempt_at = None
        entry.state = "failed"
        entry.message.status = "failed"
        return _entry(entry)


def retry_all(store, account: str, *, now: datetime | None = None) -> int:
    """Make every waiting entry due now, failed ones included; returns how many were failed."""
    now = now or utcnow()
    revived = 0
    with transaction(store) as e:
        for entry in e.Outbox.select(lambda o: o.message.account == account):
            if entry.state == "failed":
                entry.state = "pending"
                entry.message.status = "pending"
                revived += 1
            entry.next_attempt_at = now
    return revived


def drop(store, account: str, uuid: str) -> dict:
    """Give up on one waiting message: its outbox row and the undelivered message go."""
    with transaction(store) as e:
        message = e.Message.get(account=account, sender=account, uuid=uuid)
        if message is None or message.outbox is None:
            raise NotFoundLocally(f"No waiting message has the id {uuid}; see chatkit outbox.")
        entry = _entry(message.outbox)
        message.outbox.delete()
        message.delete()
        return entry


# --- reading (plain sqlite3) ------------------------------------------------------

def list_outbox(path, account: str) -> list[dict]:
    """Everything waiting for `account`, oldest first."""
    from .reads import reading

    with reading(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(ENTRY_SQL + " WHERE m.account = ? ORDER BY m.sent_at, m.id", (account,))
        return [dict(row) for row in rows]


def find_entry(path, account: str, ident: str) -> dict:
    """The one waiting entry whose id is `ident` or starts with it (6+ characters)."""
    ident = ident.strip().lower()
    if len(ident) < MIN_PREFIX:
        raise UsageError(f"Give at least {MIN_PREFIX} characters of the message id (see chatkit outbox).")
    matches = [entry for entry in list_outbox(path, account) if entry["uuid"].lower().startswith(ident)]
    exact = [entry for entry in matches if entry["uuid"].lower() == ident]
    if exact:
        return exact[0]
    if not matches:
        raise NotFoundLocally(f"No waiting message has an id starting with {ident!r}; see chatkit outbox.")
    if len(matches) > 1:
        raise UsageError(f"{ident!r} matches {len(matches)} waiting messages; give more characters of the id.")
    return matches[0]


# --- helpers ----------------------------------------------------------------------

def known_spelling(e, account: str, peer: str) -> str:
    """Names match case-insensitively on the server; keep one conversation per partner."""
    wanted = peer.lower()
    known = e.Conversation.select(lambda c: c.account == account and c.peer.lower() == wanted).first()
    return known.peer if known is not None else peer


def _outbox_of(e, message_id: int):
    message = e.Message.get(id=message_id)
    return message.outbox if message is not None else None


def _entry(outbox) -> dict:
    message = outbox.message
    return {
        "message_id": message.id, "uuid": message.uuid, "peer": message.peer,
        "recipient": message.recipient, "body": message.body, "sent_at": message.sent_at,
        "status": message.status, "state": outbox.state, "attempts": outbox.attempts,
        "last_error": outbox.last_error, "last_attempt_at": outbox.last_attempt_at,
        "next_attempt_at": outbox.next_attempt_at,
    }


def root_cause(exc: BaseException) -> BaseException:
    """Unwrap Pony's wrappers down to the driver's exception."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "original_exc", None) or exc.__cause__
        if inner is None:
            nested = getattr(exc, "exceptions", None)
            if nested:
                first = nested[0]
                inner = first[1] if isinstance(first, tuple) else first
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


def _is_pony_db_error(exc: BaseException) -> bool:
    from pony.orm.dbapiprovider import DBException

    return isinstance(exc, DBException) or type(exc).__name__ in {"CommitException", "RollbackException"}
