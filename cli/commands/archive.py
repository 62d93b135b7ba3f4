"""`chatkit conversations`, `history` and `day`: reading the local archive.

Each parses, makes one library call (chatkit.client.archive) and prints. The
library is imported inside the commands, and it reads with plain sqlite3, so
these start without Pony, sqlite-utils or httpx.
"""

from __future__ import annotations

import typer

from ..main import app, data_dir_of
from .. import output

JSON_HELP = "Print a JSON array instead of a table (times in ISO 8601 UTC, ending in Z)."


def _open(ctx: typer.Context):
    from chatkit import config
    from chatkit.client import archive

    data_dir = data_dir_of(ctx)
    account = archive.current_account(data_dir)
    return archive, account, archive.open_archive(config.client_db_path(data_dir))


@app.command()
def conversations(
    ctx: typer.Context,
    json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Partners, most recent first, with unread count and last message."""
    archive, account, opened = _open(ctx)
    with opened as conn:
        rows = archive.list_conversations(conn, account)
    if json:
        return output.print_json(rows)
    if not rows:
        return output.info("No conversations yet. Send one with `chatkit send PEER TEXT`.")
    from chatkit import config

    zone = config.local_zone()
    output.table(
        ["Peer", "When", "Unread", "Last message"],
        [[r["peer"], output.humanize(r["last_message_at"], zone),
          str(r["unread_count"]) if r["unread_count"] else "", output.preview(r["last_body"])]
         for r in rows],
    )


@app.command()
def history(
    ctx: typer.Context,
    peer: str = typer.Argument(..., metavar="PEER", help="The person the conversation is with."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, metavar="N", help="How many of the newest messages."),
    json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """The newest N messages with PEER (default 50), oldest first; marks them read."""
    archive, account, opened = _open(ctx)
    with opened as conn:
        rows = archive.history(conn, account, peer, limit=limit)
    if json:
        return output.print_json(rows)
    if not rows:
        return output.info(f"No messages with {peer} yet.")
    from chatkit import config

    zone = config.local_zone()
    output.table(
        ["When", "From", "Message"],
        [[output.local_time(r["sent_at"], zone).strftime("%Y-%m-%d %H:%M"), r["sender"], r["body"]]
         for r in rows],
        title=f"{rows[0]['peer']} ({len(rows)} shown)",
    )


@app.command()
def day(
    ctx: typer.Context,
    date: str = typer.Argument(..., metavar="YYYY-MM-DD", help="The local day."),
    tz: str = typer.Option(None, "--tz", metavar="ZONE",
                           help="Time zone of the day, e.g. Europe/Berlin [default: CHATKIT_TZ, TZ, system]."),
    json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Every message sent on one local day, oldest first."""
    from chatkit import config

    zone = config.local_zone(tz)  # a bad zone or date is a usage error before anything is opened
    from chatkit.client.archive import parse_day

    when = parse_day(date)
    archive, account, opened = _open(ctx)
    with opened as conn:
        rows = archive.messages_on_day(conn, account, when, zone)
    if json:
        return output.print_json(rows)
    if not rows:
        return output.info(f"No messages on {date}.")
    output.table(
        ["Time", "Peer", "", "Message"],
        [[output.local_time(r["sent_at"], zone).strftime("%H:%M"), r["peer"],
          "→" if r["direction"] == "out" else "←", r["body"]] for r in rows],
        title=f"{date} ({len(rows)} messages)",
    )
