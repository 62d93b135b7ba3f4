"""`chatkit chat PEER`: recent history, then live — typed lines go out, incoming ones appear.

Each typed line is stored (outbox) before any network call; a background
sender delivers it, a background long poll prints what arrives from anyone.
`-q` leaves this chat for another partner; `/quit` or Ctrl-D ends.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import typer

from chatkit.errors import ChatkitError

from ..main import app, data_dir_of
from .connected import check_body, check_username, message_line, plural, session_of, store_of

HELP_LINE = "Type a message and press Enter. -q: talk to someone else. /quit or Ctrl-D: end."


@app.command()
def chat(
    ctx: typer.Context,
    peer: str = typer.Argument(..., metavar="PEER", help="Who to talk to."),
    recent: int = typer.Option(20, "--recent", min=0, max=1000, help="How many earlier messages to show first."),
):
    """Chat interactively: recent history, then live; -q leaves this chat, /quit or Ctrl-D ends."""
    from chatkit import config
    from chatkit.client.live import Callbacks, LiveSession

    check_username(peer, "partner name")
    session = session_of(ctx)
    tz = config.local_zone()
    store = store_of(ctx)
    screen = Screen()
    state = {"partner": peer}

    def on_message(message):
        mine = message["peer"].lower() == state["partner"].lower()
        if mine:
            _mark_read(store, session.username, message)
        screen.say(message_line(message, tz, account=session.username, partner=state["partner"]))

    def on_fatal(_exc):
        screen.interrupt_input()  # wake the prompt; the loop re-raises live.fatal (exit 3)

    callbacks = Callbacks(
        on_message=on_message,
        on_delivered=lambda e, late: late and screen.say(f"(delivered to {e['peer']}: {_short(e['body'])})"),
        on_waiting=lambda e, why: screen.say(f"(not delivered yet, kept in the outbox: {why})"),
        on_failed=lambda e: screen.say(f"(not delivered to {e['peer']}: {e['last_error']} See chatkit outbox.)"),
        on_status=lambda kind, exc: screen.say(_status_line(kind, exc)),
        on_fatal=on_fatal,
    )
    live = LiveSession(store, session, callbacks)
    try:
        state["partner"] = _open(ctx, session, state["partner"], recent, tz, screen)
        screen.say(HELP_LINE)
        live.start()
        _loop(store, session, live, screen, state, ctx, recent, tz)
    finally:
        live.stop()
        store.close()
    _goodbye(ctx, session)


def _loop(store, session, live, screen, state, ctx, recent, tz) -> None:
    from chatkit.client.outbox import record_outgoing

    while True:
        try:
            line = screen.input(f"{state['partner']}> ")
        except EOFError:
            screen.say("")
            return
        except KeyboardInterrupt:
            if live.fatal is not None:
                raise live.fatal
            screen.say("")
            return
        if live.fatal is not None:
            raise live.fatal
        text = line.strip()
        if not text:
            continue
        if text == "/quit":
            return
        if text == "-q":
            nxt = _ask_partner(screen)
            if nxt is None:
                return
            state["partner"] = _open(ctx, session, nxt, recent, tz, screen)
            continue
        try:
            check_body(line)
        except ChatkitError as exc:
            screen.say(f"({exc.message} Not sent.)")
            continue
        record_outgoing(store, session.username, state["partner"], line)
        live.nudge()


def _ask_partner(screen) -> str | None:
    while True:
        try:
            name = screen.input("Chat with (Enter or Ctrl-D to end): ").strip()
        except (EOFError, KeyboardInterrupt):
            return None
        if not name:
            return None
        try:
            return check_username(name, "partner name")
        except ChatkitError as exc:
            screen.say(exc.message)


def _open(ctx, session, partner: str, recent: int, tz, screen) -> str:
    """Say who we talk to and show the recent history (marking it read)."""
    from chatkit import config
    from chatkit.client.archive import history, resolve_peer
    from chatkit.client.reads import reading

    with reading(config.client_db_path(data_dir_of(ctx))) as conn:
        partner = resolve_peer(conn, session.username, partner) or partner  # None: a new partner
        shown = history(conn, session.username, partner, recent) if recent else []
    screen.say(f"— Chat with {partner} (you are {session.username} on {session.server}) —")
    for message in shown:
        screen.say(message_line(message, tz, account=session.username))
    return partner


def _mark_read(store, account: str, message: dict) -> None:
    from chatkit.client.sync import mark_read

    try:
        mark_read(store, account, [message["message_id"]])
    except ChatkitError:
        pass  # stays unread; history will show it


def _goodbye(ctx, session) -> None:
    from chatkit import config
    from chatkit.client.outbox import list_outbox

    try:
        waiting = list_outbox(config.client_db_path(data_dir_of(ctx)), session.username)
    except ChatkitError:
        return
    if waiting:
        n = len(waiting)
        sys.stderr.write(f"{plural(n, 'message')} {'waits' if n == 1 else 'wait'} in the outbox "
                         "(see chatkit outbox).\n")


def _status_line(kind: str, exc) -> str:
    if kind == "up":
        return "(connected again)"
    if kind == "down":
        return f"(server unreachable: {exc.reason}; what you type is kept and sent when it returns)"
    return f"({exc.message})"


def _short(text: str) -> str:
    from ..output import preview

    return preview(text, 40)


class Screen:
    """Prompting while other threads print: their lines go above the prompt being typed."""

    def __init__(self):
        self.tty = sys.stdin.isatty() and sys.stdout.isatty()
        self.readline = None
        if self.tty:
            try:
                import readline  # line editing for input(), and the buffer to redraw

                self.readline = readline
            except ImportError:  # pragma: no cover - not on every platform
                pass
        self.prompt: str | None = None
        self.lock = threading.Lock()

    def input(self, prompt: str) -> str:
        with self.lock:
            self.prompt = prompt
        try:
            return input(prompt)
        finally:
            with self.lock:
                self.prompt = None

    def interrupt_input(self) -> None:
        """Break a waiting input() (from another thread) as Ctrl-C would; no-op between prompts."""
        with self.lock:
            if self.prompt is not None:
                os.kill(os.getpid(), signal.SIGINT)

    def say(self, text: str) -> None:
        with self.lock:
            if self.tty and self.prompt is not None:
                typed = self.readline.get_line_buffer() if self.readline else ""
                sys.stdout.write("\r\x1b[K" + text + "\n" + self.prompt + typed)
            else:
                sys.stdout.write(text + "\n")
            sys.stdout.flush()
