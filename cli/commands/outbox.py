"""`chatkit outbox`: what waits to be delivered; `retry` it now, or `drop` one."""

from __future__ import annotations

import sys

import typer

from ..main import app, data_dir_of
from .connected import plural, say, session_of, store_of

outbox_app = typer.Typer(help="What waits to be delivered (a table, or --json).", no_args_is_help=False)
app.add_typer(outbox_app, name="outbox")


@outbox_app.callback(invoke_without_command=True)
def outbox(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="Print a JSON array."),
):
    """What waits to be delivered (a table, or --json); see also `outbox retry` and `outbox drop`."""
    if ctx.invoked_subcommand is not None:
        return
    from chatkit import config
    from chatkit.client.outbox import list_outbox
    from chatkit.client.shapes import outbox_shape

    from ..output import preview, print_json, table

    session = session_of(ctx)
    entries = list_outbox(config.client_db_path(data_dir_of(ctx)), session.username)
    if json_:
        return print_json([outbox_shape(e) for e in entries])
    if not entries:
        return say("The outbox is empty: everything you wrote has been delivered.")
    tz = config.local_zone()
    rows = [[e["uuid"][:8], e["recipient"], e["state"], str(e["attempts"]), _next_try(e, tz),
             e["last_error"] or "", preview(e["body"], 40)] for e in entries]
    table(["id", "to", "state", "tries", "next try", "last error", "message"], rows)


def _next_try(entry: dict, tz) -> str:
    """When `sync --watch` or `chat` will try again; `sync` and `outbox retry` try at once."""
    from chatkit.timefmt import from_db, utcnow

    from ..output import humanize

    if entry["state"] == "failed":
        return "on outbox retry"
    when = from_db(entry["next_attempt_at"])
    if when is None or when <= utcnow():
        return "now"
    return humanize(when, tz)


@outbox_app.command()
def retry(ctx: typer.Context):
    """Try every waiting message now, refused ones included."""
    from chatkit.client.outbox import retry_all
    from chatkit.client.sync import deliver
    from chatkit.client.transport import connect
    from chatkit.errors import ChatkitError, Queued, ServerUnreachable

    session = session_of(ctx)
    store = store_of(ctx)
    try:
        retry_all(store, session.username)
        with connect(session) as api:
            report = deliver(store, api, session.username)
    finally:
        store.close()
    if not (report.delivered or report.failed or report.waiting):
        return say("The outbox is empty: nothing to retry.")
    for entry in report.delivered:
        say(f"Delivered to {entry['peer']}.")
    for entry in report.failed:
        say(f"Not delivered to {entry['peer']}: {entry['last_error']}", err=True)
    if report.waiting:
        error = report.error
        if error is not None and not isinstance(error, ServerUnreachable):
            raise ChatkitError(f"{error.message} {plural(len(report.waiting), 'message')} kept in the outbox.",
                               exit_code=error.exit_code)
        why = getattr(error, "reason", None) or "not tried yet"
        raise Queued(f"{plural(len(report.waiting), 'message')} kept in the outbox, will retry ({why}).")
    if report.failed:
        first = report.failed[0].get("error")
        raise ChatkitError(f"{plural(len(report.failed), 'message')} refused by the server; "
                           "fix the name and retry, or drop it.", exit_code=getattr(first, "exit_code", 1))


@outbox_app.command()
def drop(
    ctx: typer.Context,
    ident: str = typer.Argument(..., metavar="ID", help="The message id, or a unique prefix of 6+ characters."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
):
    """Give up on one waiting message: it is removed and never delivered."""
    from chatkit import config
    from chatkit.client.outbox import drop as drop_entry
    from chatkit.client.outbox import find_entry
    from chatkit.errors import UsageError

    from ..output import preview

    session = session_of(ctx)
    entry = find_entry(config.client_db_path(data_dir_of(ctx)), session.username, ident)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("Not dropping without confirmation: there is no terminal to ask on; add --yes.")
        question = f"Drop the message to {entry['recipient']} ({preview(entry['body'], 40)!r})? It will never be sent."
        if not typer.confirm(question, default=False):
            say("Nothing dropped.")
            raise typer.Exit(1)
    store = store_of(ctx)
    try:
        dropped = drop_entry(store, session.username, entry["uuid"])
    finally:
        store.close()
    say(f"Dropped the message to {dropped['recipient']} ({dropped['uuid'][:8]}).")
