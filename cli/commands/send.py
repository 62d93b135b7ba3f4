"""`chatkit send`: store the message, then deliver it (exit 75 when it has to wait)."""

from __future__ import annotations

import typer

from ..main import app
from .connected import check_body, check_username, plural, say, session_of, store_of


# The words after the first arrive in ctx.args: a list[str] argument would make typer import
# Pydantic (~0.2 s a process), and a word like "-1" is message text, not an unknown option.
@app.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def send(
    ctx: typer.Context,
    peer: str = typer.Argument(..., metavar="PEER", help="Who gets the message."),
    text: str = typer.Argument(..., metavar="TEXT...", help="The message (words are joined by spaces)."),
):
    """Send a message: stored first, then delivered (exit 75: kept in the outbox for a retry)."""
    from chatkit.client.outbox import record_outgoing
    from chatkit.client.sync import deliver
    from chatkit.client.transport import connect

    check_username(peer, "recipient")
    body = check_body(" ".join([text, *ctx.args]))
    session = session_of(ctx)
    store = store_of(ctx)
    try:
        entry = record_outgoing(store, session.username, peer, body)
        with connect(session) as api:
            report = deliver(store, api, session.username)
    finally:
        store.close()
    raise_for_entry(report, entry["uuid"])
    others = [e for e in report.delivered if e["uuid"] != entry["uuid"]]
    say(f"Delivered to {entry['peer']}.")
    if others:
        say(f"Also delivered {plural(len(others), 'earlier message')} from the outbox.", err=True)


def raise_for_entry(report, uuid: str) -> None:
    """Turn one entry's fate in a delivery round into the command's exit."""
    from chatkit.errors import ChatkitError, Queued, ServerUnreachable

    for entry in report.failed:
        if entry["uuid"] == uuid:
            error = entry.get("error")
            code = error.exit_code if isinstance(error, ChatkitError) else 1
            raise ChatkitError(f"Not delivered: {entry['last_error']} The message is parked in the outbox "
                               "(chatkit outbox retry, or chatkit outbox drop).", exit_code=code)
    for entry in report.waiting:
        if entry["uuid"] == uuid:
            if report.error is not None and not isinstance(report.error, ServerUnreachable):
                raise ChatkitError(f"{report.error.message} The message is kept in the outbox.",
                                   exit_code=report.error.exit_code)
            reason = getattr(report.error, "reason", None) or entry.get("last_error") or "not tried yet"
            raise Queued(f"Not delivered yet: kept in the outbox, will retry ({reason}).")
