"""Store-and-forward: accept a message once, hand it over, then forget the body.

Sends go through the Committer (group commit), so a 201 means the row is on
disk. A repeat of the same (sender, id) replays the original reply; the same
id with other content is a conflict. Fetching with `after=N` acknowledges
everything up to N: those rows get `delivered_at` and lose their body.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from pony.orm import exists, select

from .. import timefmt
from ..errors import Conflict, ServiceUnavailable, UnknownUser
from . import queries
from .secret import keyed_digest

log = logging.getLogger("chatkit.server")

PAGE = 500


@dataclass(frozen=True)
class Outgoing:
    id: str
    to: str
    body: str
    sent_at: datetime

    def digest(self, recipient_id: int, key: bytes) -> str:
        """Keyed, so server.db alone cannot confirm a guessed body (chatkit.server.secret)."""
        text = f"{recipient_id}\x00{timefmt.to_db(self.sent_at)}\x00{self.body}"
        return keyed_digest(key, text)


class Relay:
    """Sending, fetching and acknowledging messages for one store."""

    def __init__(self, store, committer, waiters, poll_slots: int = 224, polls_per_user: int = 8,
                 key: bytes = b""):
        self.store, self.committer, self.waiters = store, committer, waiters
        self.key = key
        self.poll_slots = threading.BoundedSemaphore(max(1, poll_slots))
        self.polls_per_user = polls_per_user  # so one account cannot hold every slot
        self._users: dict[str, tuple[int, str]] = {}  # accounts are never renamed or removed

    def recipient(self, name: str) -> tuple[int, str]:
        key = name.lower()
        found = self._users.get(key)
        if found is None:
            found = self.store.run(_user_by_key, self.store, key)
            if found is None:
                raise UnknownUser(f"There is no user named {name!r} on this server.")
            self._users[key] = found
        return found

    def send_message(self, caller, msg: Outgoing) -> tuple[dict, bool]:
        """Store `msg` from `caller`; return (reply, created)."""
        recipient_id, recipient_name = self.recipient(msg.to)
        reply, created = self.committer.submit(
            _store_message, self.store, caller.user_id, recipient_id, msg, msg.digest(recipient_id, self.key))
        if created:
            self.waiters.notify(recipient_id)
            log.info("message relayed %s → %s (%d chars)", caller.username, recipient_name, len(msg.body))
        return reply, created

    def fetch_messages(self, caller, after: int, wait: int) -> dict:
        """The caller's messages after `after` (acknowledging up to it), waiting up to `wait` s."""
        store = self.store
        if store.run(_has_unacked, store, caller.user_id, after):
            try:
                self.committer.submit(_acknowledge, store, caller.user_id, after, timefmt.utcnow())
            except ServiceUnavailable:
                # Acknowledging is cumulative: the next fetch with this cursor (or a later
                # one) acknowledges again. Reading must not stop while the disk is full.
                log.debug("acknowledgement up to %d for user %d deferred", after, caller.user_id)
        deadline = time.monotonic() + wait
        holding = False
        try:
            while True:
                gen = self.waiters.generation(caller.user_id)
                rows = store.run(_incoming, store, caller.user_id, after)
                remaining = deadline - time.monotonic()
                if rows or remaining <= 0 or self.waiters.closed:
                    break
                if not holding:
                    if self.waiters.waiting(caller.user_id) >= self.polls_per_user:
                        raise ServiceUnavailable("This account already has the most long polls "
                                                 "allowed waiting.", retry_after=2, code="busy")
                    if not self.poll_slots.acquire(blocking=False):
                        raise ServiceUnavailable("Too many people are waiting for messages right now.",
                                                 retry_after=2, code="busy")
                    holding = True
                self.waiters.wait(caller.user_id, gen, remaining)
        finally:
            if holding:
                self.poll_slots.release()
        return {"messages": rows, "next": rows[-1]["seq"] if rows else after}


def _user_by_key(store, key):
    user = store.User.get(username_key=key)
    return (user.id, user.username) if user else None


def _reply(message_id, seq, received_at) -> dict:
    return {"id": message_id, "seq": seq, "received_at": timefmt.iso_z(received_at)}


def _store_message(store, sender_id, recipient_id, msg, digest):
    """One send; the committer calls `_store_messages` with a whole batch instead."""
    (result,) = _store_messages(store, [(store, sender_id, recipient_id, msg, digest)])
    if isinstance(result, Exception):
        raise result
    return result


def _store_messages(store, jobs):
    """Store a batch of sends with one SELECT and one INSERT (few round trips, one commit).

    `jobs` are `_store_message` argument tuples. Returns, per job, `(reply,
    created)` or a Conflict; a repeat within the batch replays the first.
    """
    keys = [(sender_id, msg.id) for _, sender_id, _, msg, _ in jobs]
    known = queries.messages_by_sender_uuids(store.db, keys)
    now = timefmt.utcnow()
    inserted: dict = {}  # key -> index of the job that inserts it
    rows = []
    for i, (_, sender_id, recipient_id, msg, digest) in enumerate(jobs):
        if keys[i] not in known and keys[i] not in inserted:
            inserted[keys[i]] = i
            rows.append((msg.id, sender_id, recipient_id, msg.sent_at, now, msg.body, digest))
    seqs = queries.insert_messages(store.db, rows) if rows else {}
    for key, i in inserted.items():
        known[key] = (seqs[key], jobs[i][4], now)
    results = []
    for i, (_, _, _, msg, digest) in enumerate(jobs):
        seq, stored_digest, received_at = known[keys[i]]
        if stored_digest != digest:
            results.append(Conflict())
        else:
            results.append((_reply(msg.id, seq, received_at), inserted.get(keys[i]) == i))
    return results


_store_message.many = _store_messages


def _has_unacked(store, user_id, after):
    return exists(m for m in store.Message
                  if m.recipient.id == user_id and m.seq <= after and m.delivered_at is None)


def _acknowledge(store, user_id, after, now):
    for m in store.Message.select(lambda m: m.recipient.id == user_id and m.seq <= after
                                  and m.delivered_at is None):
        m.delivered_at = now
        m.body = None


def _incoming(store, user_id, after):
    rows = select((m.uuid, m.seq, m.sender.username, m.recipient.username, m.body, m.sent_at,
                   m.received_at)
                  for m in store.Message
                  if m.recipient.id == user_id and m.seq > after and m.delivered_at is None
                  ).order_by(2).limit(PAGE)[:]
    return [{"id": u, "seq": s, "from": f, "to": t, "body": b, "sent_at": timefmt.iso_z(sa),
             "received_at": timefmt.iso_z(ra)} for u, s, f, t, b, sa, ra in rows]
