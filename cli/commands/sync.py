"""`chatkit sync`: deliver the outbox, fetch new messages; `--watch` stays connected."""

from __future__ import annotations

import typer

from ..main import app
from .connected import message_line, plural, say, session_of, store_of


@app.command()
def sync(
    ctx: typer.Context,
    watch: bool = typer.Option(False, "--watch", help="Stay connected (long poll) until Ctrl-C."),
):
    """Deliver waiting messages, then fetch new ones."""
    from chatkit import config

    tz = config.local_zone()
    session = session_of(ctx)
    store = store_of(ctx)
    try:
        if watch:
            return _watch(store, session, tz)
        _once(store, session, tz)
    finally:
        store.close()


def _once(store, session, tz) -> None:
    from chatkit.client.sync import sync as run_sync
    from chatkit.client.transport import connect
    from chatkit.errors import ChatkitError, Queued, ServerUnreachable

    with connect(session) as api:
        report = run_sync(store, api, session)
    delivery = report.delivery
    for entry in delivery.delivered:
        say(f"Delivered to {entry['peer']}: {_short(entry['body'])}")
    for entry in delivery.failed:
        say(f"Not delivered to {entry['peer']}: {entry['last_error']} (see chatkit outbox)", err=True)
    for message in report.received:
        say(message_line(message, tz, account=session.username))
    if report.pull_error is None:
        say(f"Received {plural(len(report.received), 'new message')}." if report.received else "No new messages.",
            err=True)
    error = delivery.error or report.pull_error
    if error is not None:
        if not isinstance(error, ServerUnreachable):
            raise error
        if delivery.waiting:
            raise Queued(f"{plural(len(delivery.waiting), 'message')} kept in the outbox, will retry ({error.reason}).")
        raise error
    if delivery.failed:
        first = delivery.failed[0].get("error")
        raise ChatkitError(f"{plural(len(delivery.failed), 'message')} refused by the server; "
                           "see chatkit outbox.", exit_code=getattr(first, "exit_code", 1))


def _watch(store, session, tz) -> None:
    from chatkit.client.live import Callbacks, LiveSession

    callbacks = Callbacks(
        on_message=lambda m: say(message_line(m, tz, account=session.username)),
        on_delivered=lambda e, _late: say(f"Delivered to {e['peer']}: {_short(e['body'])}"),
        on_waiting=lambda e, why: say(f"Kept in the outbox, will retry: to {e['peer']} ({why})", err=True),
        on_failed=lambda e: say(f"Not delivered to {e['peer']}: {e['last_error']} (see chatkit outbox)", err=True),
        on_status=lambda kind, exc: say(_status_line(kind, exc), err=True),
    )
    live = LiveSession(store, session, callbacks).start()
    say(f"Watching for messages to {session.username} on {session.server}; Ctrl-C to stop.", err=True)
    try:
        while not live.wait_stopped(0.5):
            pass
    except KeyboardInterrupt:
        live.stop()
        say("Stopped.", err=True)
        return
    if live.fatal is not None:
        raise live.fatal


def _status_line(kind: str, exc) -> str:
    if kind == "up":
        return "Connected again."
    if kind == "down":
        return f"Server unreachable ({exc.reason}); retrying."
    return f"Trouble: {exc.message}"


def _short(text: str, width: int = 60) -> str:
    from ..output import preview

    return preview(text, width)
