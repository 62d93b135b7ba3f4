"""Staying connected: background delivery and a long poll, for `chat` and `sync --watch`.

Two daemon threads share one client.db through Pony (each in its own short
db_session, never across a network call):

- the receiver long-polls `GET /api/messages` and hands each committed batch
  to `on_message`; when the server goes away it backs off (1 s .. 5 s) and
  says so once, and when the server answers again it asks the sender to
  retry everything at once;
- the sender delivers the outbox: at once when `nudge()`d (a line was typed
  and already stored), otherwise when the oldest entry's backoff is over.

The library never prints: what happens is reported through callbacks, and
the front end decides what a person sees.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from ..errors import ChatkitError, ServerUnreachable, Unauthorized
from ..timefmt import utcnow
from .outbox import next_due
from .sync import deliver, pull
from .transport import connect

LONG_POLL_WAIT = 25  # seconds the server may hold a poll (DESIGN.md allows 0..30)
RECONNECT_MIN = 1.0
RECONNECT_MAX = 5.0
IDLE = 60.0  # the sender wakes at least this often


def _quiet(*_args) -> None:
    return None


@dataclass
class Callbacks:
    on_message: Callable = _quiet  # (message dict) a new incoming message, committed
    on_delivered: Callable = _quiet  # (entry, was_waiting) the server has it
    on_waiting: Callable = _quiet  # (entry, reason) kept in the outbox (reported once per entry)
    on_failed: Callable = _quiet  # (entry) refused for good
    on_status: Callable = _quiet  # ("down", error) / ("up", None) / ("error", error)
    on_fatal: Callable = _quiet  # (error) the session is no longer valid; everything stopped


class LiveSession:
    """The receiver and sender threads for one logged-in account."""

    def __init__(self, store, session, callbacks: Callbacks, *, wait: int = LONG_POLL_WAIT):
        self.store = store
        self.session = session
        self.callbacks = callbacks
        self.wait = wait
        self.fatal: ChatkitError | None = None
        self._stop = threading.Event()
        self._nudge = threading.Event()
        self._retry_now = threading.Event()
        self._retry_now.set()  # the first round tries everything, as `sync` does
        self._reported_waiting: set[str] = set()
        self._threads: list[threading.Thread] = []

    # --- control -----------------------------------------------------------------

    def start(self) -> "LiveSession":
        for name, target in (("chatkit-receiver", self._receive), ("chatkit-sender", self._send)):
            thread = threading.Thread(target=self._guarded, args=(target,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def nudge(self) -> None:
        """Something new is in the outbox: deliver it now."""
        self._nudge.set()

    def stop(self, timeout: float = 3.0) -> None:
        """Finish: the sender makes one last round for what was just typed (up to `timeout`);
        a long poll in flight is abandoned (daemon thread).

        Abandoning is safe: the cursor moves only with committed messages, and
        an entry whose reply is cut off stays in the outbox for the next sync.
        """
        self._stop.set()
        self._nudge.set()
        for thread in self._threads:
            thread.join(timeout if thread.name == "chatkit-sender" else 0.2)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)

    # --- threads -------------------------------------------------------------------

    def _guarded(self, target) -> None:
        """Run a thread's loop; anything unexpected is reported (never a traceback) and the loop resumes."""
        while not self._stop.is_set():
            try:
                return target()
            except Exception as exc:  # noqa: BLE001 - a thread must not die silently or noisily
                if self._stop.is_set():
                    return
                self._report("on_status", "error", ChatkitError(f"Unexpected trouble ({type(exc).__name__}: {exc})."))
                self._stop.wait(RECONNECT_MAX)

    def _receive(self) -> None:
        account, server = self.session.username, self.session.server
        delay, down = RECONNECT_MIN, False
        api = connect(self.session)
        try:
            while not self._stop.is_set():
                try:  # after an outage, a quick poll first: say "up" as soon as the server answers
                    pull(self.store, api, account, server, wait=0 if down else self.wait,
                         on_batch=self._deliver_batch)
                except Unauthorized as exc:
                    return self._die(exc)
                except ChatkitError as exc:
                    if not down:
                        down = True
                        self._report("on_status", "down" if isinstance(exc, ServerUnreachable) else "error", exc)
                    self._stop.wait(delay)
                    delay = min(delay * 2, RECONNECT_MAX)
                    continue
                if down:
                    down, delay = False, RECONNECT_MIN
                    self._report("on_status", "up", None)
                    self._retry_now.set()
                    self._nudge.set()
        finally:
            api.close()

    def _deliver_batch(self, messages: list[dict]) -> None:
        if self._stop.is_set():
            return  # stored; they will be shown by history
        for message in messages:
            self._report("on_message", message)

    def _send(self) -> None:
        account = self.session.username
        api = connect(self.session)
        try:
            while True:
                if self._stop.is_set():
                    return self._last_round(api)
                everything = self._retry_now.is_set()
                self._retry_now.clear()
                try:
                    report = deliver(self.store, api, account, due_only=not everything)
                except ChatkitError as exc:  # the store itself is in trouble
                    self._report("on_status", "error", exc)
                    self._stop.wait(RECONNECT_MAX)
                    continue
                self._tell(report)
                if isinstance(report.error, Unauthorized):
                    return self._die(report.error)
                if self._stop.is_set():
                    continue
                self._nudge.wait(self._pause())
                self._nudge.clear()
        finally:
            api.close()

    def _last_round(self, api) -> None:
        """On stop: deliver what is due (just typed), unless the session is gone."""
        if self.fatal is not None:
            return
        try:
            self._tell(deliver(self.store, api, self.session.username, due_only=True))
        except ChatkitError:
            pass

    def _tell(self, report) -> None:
        for entry in report.delivered:
            was_waiting = entry["uuid"] in self._reported_waiting
            self._reported_waiting.discard(entry["uuid"])
            self._report("on_delivered", entry, was_waiting)
        for entry in report.failed:
            self._reported_waiting.discard(entry["uuid"])
            self._report("on_failed", entry)
        for entry in report.waiting:
            if entry["uuid"] not in self._reported_waiting:
                self._reported_waiting.add(entry["uuid"])
                reason = getattr(report.error, "reason", None) or entry.get("last_error") or "waiting to retry"
                self._report("on_waiting", entry, reason)

    def _pause(self) -> float:
        try:
            when = next_due(self.store, self.session.username)
        except ChatkitError:
            return RECONNECT_MAX
        if when is None:
            return IDLE
        return min(IDLE, max(0.05, (when - utcnow()).total_seconds()))

    def _die(self, exc: ChatkitError) -> None:
        if self.fatal is None:
            self.fatal = exc
            self._report("on_fatal", exc)
        self._stop.set()
        self._nudge.set()

    def _report(self, name: str, *args) -> None:
        try:
            getattr(self.callbacks, name)(*args)
        except Exception:  # a broken terminal must not stop delivery
            pass
