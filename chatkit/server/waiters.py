"""Wake long polls: a condition per recipient, plus a slow look at the database.

A send in this process notifies the recipient's condition directly, so a
waiting GET answers within milliseconds. A watcher thread also checks the
highest `seq` every `recheck` seconds (one cheap query, however many people
wait) and wakes the recipients of rows another process wrote. Waiting holds
no db_session, transaction or Pony lock: only this module's conditions.
"""

from __future__ import annotations

import logging
import threading

from pony.orm import max as pony_max, select

log = logging.getLogger("chatkit.server")


class _Slot:
    __slots__ = ("cond", "gen", "waiting")

    def __init__(self):
        self.cond = threading.Condition()
        self.gen = 0
        self.waiting = 0


class Waiters:
    def __init__(self, store, recheck: float = 0.5):
        self.store = store
        self.recheck = recheck
        self._lock = threading.Lock()
        self._slots: dict[int, _Slot] = {}
        self._stop = threading.Event()
        self._last_seq = store.run(_max_seq, store)
        self._thread = threading.Thread(target=self._watch, name="chatkit-poll-watcher", daemon=True)
        self._thread.start()

    def _slot(self, user_id) -> _Slot:
        with self._lock:
            slot = self._slots.get(user_id)
            if slot is None:
                slot = self._slots[user_id] = _Slot()
            return slot

    def generation(self, user_id) -> int:
        """Take this before reading the database; `wait` returns at once if it moved."""
        slot = self._slot(user_id)
        with slot.cond:
            return slot.gen

    def wait(self, user_id, gen, timeout) -> bool:
        """Block up to `timeout` seconds for news for `user_id` newer than `gen`."""
        slot = self._slot(user_id)
        with slot.cond:
            slot.waiting += 1
            try:
                return slot.cond.wait_for(lambda: slot.gen != gen, timeout)
            finally:
                slot.waiting -= 1

    def waiting(self, user_id) -> int:
        """How many polls of `user_id` are waiting right now."""
        slot = self._slot(user_id)
        with slot.cond:
            return slot.waiting

    def notify(self, user_id) -> None:
        slot = self._slot(user_id)
        with slot.cond:
            slot.gen += 1
            slot.cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def close(self):
        """Stop watching and release every waiting poll (they answer at once)."""
        self._stop.set()
        with self._lock:
            slots = list(self._slots.values())
        for slot in slots:
            with slot.cond:
                slot.gen += 1
                slot.cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _anyone_waiting(self):
        with self._lock:
            return any(slot.waiting for slot in self._slots.values())

    def _watch(self):
        while not self._stop.wait(self.recheck):
            try:
                if not self._anyone_waiting():
                    self._last_seq = self.store.run(_max_seq, self.store)
                    continue
                top, recipients = self.store.run(_news_since, self.store, self._last_seq)
                self._last_seq = max(self._last_seq, top)
                for user_id in recipients:
                    self.notify(user_id)
            except Exception as exc:  # keep watching; a send in-process still wakes polls
                log.warning("poll watcher: %s", exc)


def _max_seq(store):
    return pony_max(m.seq for m in store.Message) or 0


def _news_since(store, seq):
    rows = select((m.seq, m.recipient.id) for m in store.Message if m.seq > seq)[:]
    return (max((r[0] for r in rows), default=seq), {r[1] for r in rows})
