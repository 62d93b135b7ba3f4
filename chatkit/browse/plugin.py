"""A Datasette plugin that lets SQL speak `chatkit search`'s language.

Registered by `chatkit.browse.serve` (never installed globally), it adds SQL
functions used by the canned `search` query, so `grüsse` finds `Grüße` there
just as on the command line, and marks matches in the snippet column.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

from datasette import hookimpl
from markupsafe import Markup, escape

NOTHING = '""'  # a valid FTS5 expression that matches no row


@lru_cache(maxsize=64)
def _parsed(q):
    from chatkit.errors import ChatkitError
    from chatkit.search import parse_query

    try:
        return parse_query(q or "")
    except ChatkitError:
        return None


def chatkit_fts(q):
    """The FTS5 expression for query `q`, or one that matches nothing."""
    parsed = _parsed(q)
    return parsed.match if parsed is not None and parsed.match else NOTHING


def chatkit_filters(q, peer, sender, sent_at):
    """1 when a row passes the query's with:/from:/on:/before:/after: filters."""
    parsed = _parsed(q)
    if parsed is None:
        return 0
    for groups, value in ((parsed.peer_groups, peer), (parsed.sender_groups, sender)):
        for names in groups:
            if (value or "").lower() not in {n.lower() for n in names}:
                return 0
    if parsed.since is not None and not (sent_at or "") >= parsed.since:
        return 0
    if parsed.until is not None and not (sent_at or "") < parsed.until:
        return 0
    return 1


def chatkit_snippet(body, q):
    """The body with matches in [brackets], as `chatkit search --json` shows it."""
    from chatkit.textfold import snippet_segments

    parsed = _parsed(q)
    if body is None or parsed is None:
        return body
    segments = snippet_segments(body, parsed.exact_keys, parsed.prefix_keys)
    return "".join(f"[{text}]" if hit else text for text, hit in segments)


@hookimpl
def prepare_connection(conn):
    conn.create_function("chatkit_fts", 1, chatkit_fts, deterministic=True)
    conn.create_function("chatkit_filters", 4, chatkit_filters, deterministic=True)
    conn.create_function("chatkit_snippet", 2, chatkit_snippet, deterministic=True)


_MARKED = re.compile(r"\[([^\[\]]+)\]")


@hookimpl
def render_cell(value, column, table, database):
    """Show the search query's [matches] as <mark> in the HTML page."""
    if table is None and database == "client" and column == "snippet" and isinstance(value, str):
        return Markup(_MARKED.sub(lambda m: f"<mark>{m.group(1)}</mark>", str(escape(value))))
    return None


@hookimpl
def handle_exception(request, exception):
    """One log line for the server's own failures (Datasette renders the page).

    Datasette 0.65 answers `?_sort=` on a column outside `sortable_columns` (or
    on no column at all) with a 500; it is the request that is wrong, so 400.
    """
    message = getattr(exception, "message", None)
    if getattr(exception, "status", None) == 500 and isinstance(message, str) \
            and message.startswith("Cannot sort table by "):
        exception.status = 400
    status = getattr(exception, "status", 500)
    if not isinstance(status, int) or status >= 500:
        path = request.path if request is not None else "?"
        sys.stderr.write(f"chatkit browse: error on {path}: {type(exception).__name__}: {exception}\n")
    return None
