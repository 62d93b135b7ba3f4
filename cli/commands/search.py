"""`chatkit search`: full-text search of the archive, best first, with highlighted snippets.

Library code is imported inside the command so that `chatkit search` starts
without Pony or sqlite-utils (the read path is plain sqlite3).
"""

from __future__ import annotations

import typer

from ..main import app, data_dir_of

QUERY_HELP = (
    'Words (all must match), "a phrase", word* (prefix), -word (exclude), with:PEER, from:PEER, '
    "on:/before:/after:YYYY-MM-DD|today|yesterday. Case, accents and ß/ss do not matter."
)


# The words after the first arrive in ctx.args (no list coercion, which would import Pydantic),
# and `-word` is taken as a word, not an unknown option.
@app.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                               "help_option_names": ["--help"]})
def search(
    ctx: typer.Context,
    query: str = typer.Argument(None, metavar="QUERY...", help=QUERY_HELP, show_default=False),
    with_peer: str = typer.Option(None, "--with", metavar="PEER", help="Only the conversation with PEER."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000, help="At most this many results."),
    sort: str = typer.Option("rank", "--sort", metavar="rank|date", help="Best match first, or newest first."),
    tz: str = typer.Option(None, "--tz", metavar="ZONE", help="Time zone for dates and times [default: CHATKIT_TZ, TZ, system]."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array: the message shape plus snippet ([matches] marked) and rank (bm25, lower is better; null with --sort date)."),
):
    """Search your messages, best match first, with the matches highlighted.

    Several with: (or from:) names mean any of them; a query of filters only
    lists the newest matching messages. Example: chatkit search grüße with:bob after:2026-11-30
    """
    from chatkit.client.session import current_account
    from chatkit.config import client_db_path, local_zone
    from chatkit.errors import UsageError
    from chatkit.search import search_messages

    words = [w for w in (query, *ctx.args) if w is not None]
    for word in words:  # `-word` is query syntax, but a mistyped `--option` is not a search
        if word.startswith("--") and len(word) > 2 and " " not in word:
            raise UsageError(f"No such option: {word}. See 'chatkit search --help'.")
    zone = local_zone(tz)
    data_dir = data_dir_of(ctx)
    account = current_account(data_dir).username
    hits = search_messages(client_db_path(data_dir), " ".join(words), account,
                           with_peer=with_peer, limit=limit, sort=sort, tz=tz)
    if as_json:
        from ..output import print_json

        print_json([hit.to_json() for hit in hits])
        return
    _print_hits(hits, zone)


def _print_hits(hits, zone) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..output import console, info, local_time

    if not hits:
        info("No messages match.")
        return
    out = console()
    table = Table(show_edge=False, pad_edge=False, header_style="bold", show_lines=False)
    table.add_column("when", no_wrap=True)
    table.add_column("with", no_wrap=True)
    table.add_column("message", overflow="fold")
    for hit in hits:
        message = hit.message
        arrow = "←" if message["direction"] == "in" else "→"
        snippet = Text()
        for text, matched in hit.segments:
            snippet.append(text, style="bold yellow" if matched and out.is_terminal else None)
        when = local_time(message["sent_at"], zone).strftime("%Y-%m-%d %H:%M")  # results span years
        table.add_row(when, f"{arrow} {message['peer']}", snippet)
    out.print(table)
