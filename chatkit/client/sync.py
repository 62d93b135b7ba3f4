"""Delivering the outbox and pulling what others sent, without losing or doubling a message.

Delivery: every waiting entry is posted with its own id, oldest first, so a
retry after a lost reply is answered by the server's idempotency rather than
stored twice. A refusal for good parks that one entry and the rest go on;
network trouble stops the round (the server is down for all of them) and
leaves the entries waiting.

Pulling: the cursor for (account, server) in `sync_state` moves in the same
transaction that stores the fetched messages, and the server forgets them
only when the next request says `after=<that cursor>`. A client killed
between fetch and commit therefore fetches the same messages again; they are
stored by (account, sender, uuid), so nothing is doubled either.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..errors import ChatkitError, ServerUnreachable, TooManyAttempts, Unauthorized
from ..timefmt import iso_z, parse_iso, utcnow
from .outbox import known_spelling, mark_delivered, mark_failed, mark_retry, pending_entries, transaction

FAULT_ENV = "CHATKIT_TEST_FAULT"


@dataclass
class DeliveryReport:
    delivered: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)  # refused for good in this round
    waiting: list[dict] = field(default_factory=list)  # still pending after this round
    error: ChatkitError | None = None  # the network or session trouble that stopped the round


@dataclass
class SyncReport:
    delivery: DeliveryReport
    received: list[dict] = field(default_factory=list)
    pull_error: ChatkitError | None = None


def deliver(store, api, account: str, *, due_only: bool = False, now: datetime | None = None) -> DeliveryReport:
    """Post waiting entries oldest first.

    `sync`, `send` and `outbox retry` pass due_only=False: everything is tried
    now. The automatic loops (`sync --watch`, `chat`) pass due_only=True and
    stop at the first entry whose backoff is not over, so messages keep
    their order.
    """
    report = DeliveryReport()
    now = now or utcnow()
    entries = pending_entries(store, account)
    for index, entry in enumerate(entries):
        due = entry["next_attempt_at"] is None or entry["next_attempt_at"] <= now
        if report.error is not None or (due_only and not due):
            report.waiting.extend(entries[index:])
            break
        try:
            _fault("before_post")
            reply = api.post_message(entry["uuid"], entry["recipient"], entry["body"], iso_z(entry["sent_at"]))
            _fault("after_post")
        except (ServerUnreachable, Unauthorized, TooManyAttempts) as exc:
            reason = getattr(exc, "reason", None) or exc.message
            report.waiting.append(mark_retry(store, entry["message_id"], reason) or entry)
            report.error = exc
        except ChatkitError as exc:  # the server refused this one for good
            report.failed.append(dict(mark_failed(store, entry["message_id"], exc.message) or entry, error=exc))
        else:
            mark_delivered(store, entry["message_id"], _time(reply.get("received_at")))
            report.delivered.append(dict(entry, status="sent"))
    return report


def pull(store, api, account: str, server: str, *, wait: int = 0, on_batch=None) -> list[dict]:
    """Fetch and store everything new for `account`; returns the newly stored messages.

    Pages are fetched until the server has nothing more; each request after
    the first acknowledges the page stored before it. `on_batch(messages)` is
    called after each page is committed, so a live view shows messages
    without waiting for the last page.
    """
    received: list[dict] = []
    cursor = get_cursor(store, account, server)
    while True:
        page = api.get_messages(after=cursor, wait=wait)
        wait = 0
        messages = page.get("messages") or []
        next_cursor = page.get("next")
        if not isinstance(next_cursor, int) or isinstance(next_cursor, bool):
            next_cursor = max([cursor] + [m.get("seq", 0) for m in messages if isinstance(m.get("seq"), int)])
        _fault("after_fetch")
        batch = store_incoming(store, account, server, messages, next_cursor)
        received.extend(batch)
        if batch and on_batch is not None:
            on_batch(batch)
        if not messages or next_cursor == cursor:
            return received
        cursor = next_cursor


def sync(store, api, session, *, due_only: bool = False, wait: int = 0) -> SyncReport:
    """Deliver the outbox, then pull (skipped when delivery found the server down)."""
    report = SyncReport(delivery=deliver(store, api, session.username, due_only=due_only))
    if isinstance(report.delivery.error, (ServerUnreachable, Unauthorized)):
        report.pull_error = report.delivery.error
        return report
    try:
        report.received = pull(store, api, session.username, session.server, wait=wait)
    except (ServerUnreachable, Unauthorized) as exc:
        report.pull_error = exc
    return report


def store_incoming(store, account: str, server: str, messages: list, cursor: int) -> list[dict]:
    """Store fetched messages (idempotently) and move the cursor, in one transaction."""
    from pony.orm import flush, select

    stored = []
    with transaction(store) as e:
        # No body: acknowledged before (e.g. a restored backup asks again); nothing left to keep.
        incoming = [f for f in (_incoming_fields(raw, account) for raw in messages) if f["body"]]
        uuids = sorted({f["uuid"] for f in incoming})
        have = set(select((m.sender, m.uuid) for m in e.Message
                          if m.account == account and m.uuid in uuids)[:]) if uuids else set()
        spelling: dict[str, str] = {}
        for fields in incoming:
            key = (fields["sender"], fields["uuid"])
            if key in have:
                continue
            have.add(key)
            if fields["peer"] not in spelling:
                spelling[fields["peer"]] = known_spelling(e, account, fields["peer"])
            fields["peer"] = spelling[fields["peer"]]
            stored.append(e.Message(account=account, direction="in", status="unread", **fields))
        state = e.SyncState.get(account=account, server=server)
        if state is None:
            e.SyncState(account=account, server=server, cursor=cursor)
        elif state.cursor != cursor:
            state.cursor = cursor
        flush()
        stored = [_message_dict(m) for m in stored]
        _fault("before_commit")
    return stored


def get_cursor(store, account: str, server: str) -> int:
    with transaction(store) as e:
        state = e.SyncState.get(account=account, server=server)
        return state.cursor if state is not None else 0


def mark_read(store, account: str, message_ids: list[int]) -> int:
    """Incoming messages a person has now seen (e.g. printed live in `chat`)."""
    changed = 0
    with transaction(store) as e:
        for message_id in message_ids:
            message = e.Message.get(id=message_id)
            if message is not None and message.account == account and message.status == "unread":
                message.status = "read"
                changed += 1
    return changed


def _message_dict(m) -> dict:
    return {"message_id": m.id, "uuid": m.uuid, "account": m.account, "peer": m.peer,
            "direction": m.direction, "sender": m.sender, "recipient": m.recipient, "body": m.body,
            "sent_at": m.sent_at, "received_at": m.received_at, "status": m.status}


def _incoming_fields(raw, account: str) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("from"), str):
        raise ChatkitError("The server sent a message this chatkit cannot read; nothing was stored.")
    received_at = _time(raw.get("received_at")) or utcnow()
    sender = raw["from"]
    body = raw.get("body")
    return {
        "uuid": raw["id"], "peer": sender, "sender": sender,
        "recipient": raw.get("to") if isinstance(raw.get("to"), str) else account,
        "body": body if isinstance(body, str) else "",
        "sent_at": placed_at(_time(raw.get("sent_at")), received_at),
        "received_at": received_at,
    }


SKEW_TOLERANCE = timedelta(minutes=2)


def placed_at(sent_at: datetime | None, received_at: datetime) -> datetime:
    """The `sent_at` an incoming message is stored with: where it sits in the archive.

    The archive orders and groups by `sent_at` (history, day, conversations),
    but an incoming `sent_at` is the sender's clock, which may be wrong: an
    hour ahead would keep the message after everything said in the next hour,
    an hour behind would bury it among older messages, out of sight of
    `history --limit`. `received_at` is the server's clock, one clock for
    everybody. So the sender's time is kept when it is believable — not
    after the server received the message, and at most SKEW_TOLERANCE (two
    minutes) before — and otherwise the message is placed at `received_at`,
    where it arrived: a skewed clock, or a message that waited in the sender's
    outbox, cannot reorder or hide anything by more than two minutes.
    """
    if sent_at is None or not received_at - SKEW_TOLERANCE <= sent_at <= received_at:
        return received_at
    return sent_at


def _time(value) -> datetime | None:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def _fault(point: str) -> None:
    """Test-only crash hook: with CHATKIT_TEST_FAULT=<point> the process is SIGKILLed here.

    Unset in production, where it costs one dictionary look-up. The tests use
    it to prove that a client killed mid-sync loses and doubles nothing.
    """
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
