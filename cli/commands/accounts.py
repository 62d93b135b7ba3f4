"""`chatkit login`, `logout` and `users`: the session with a server."""

from __future__ import annotations

import sys

import typer

from chatkit.errors import UsageError

from ..main import app, data_dir_of
from .connected import check_username, plural, say, session_of


@app.command()
def login(
    ctx: typer.Context,
    user: str = typer.Argument(..., metavar="USER", help="Your user name (first login creates the account)."),
    server: str = typer.Option(
        None, "--server", envvar="CHATKIT_SERVER", metavar="URL",
        help="The chatkit server [default: the saved one, else http://127.0.0.1:8000].",
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin (one line)."),
):
    """Log in to a server (hidden password prompt) and remember the session."""
    from chatkit import config
    from chatkit.client.session import load_session, normalize_server, save_session
    from chatkit.client.transport import Api

    data = data_dir_of(ctx)
    check_username(user)
    saved = load_session(data)
    url = normalize_server(server or (saved.server if saved else config.DEFAULT_SERVER_URL))
    password = _read_password(password_stdin)
    with Api(url) as api:
        reply = api.login(user, password)
    session = save_session(data, url, reply["username"], reply["token"])
    if reply.get("created"):
        say(f"Created the account {session.username} on {session.server}; you are logged in.")
    else:
        say(f"Logged in as {session.username} on {session.server}.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, err=True)
    if not 8 <= len(password) <= 1024:
        raise UsageError("A password has 8 to 1024 characters.")
    return password


@app.command()
def logout(ctx: typer.Context):
    """Revoke the session on the server and forget it here."""
    from chatkit import config
    from chatkit.client.outbox import list_outbox
    from chatkit.client.session import forget_session, load_session
    from chatkit.client.transport import connect
    from chatkit.errors import ChatkitError, ServerUnreachable, Unauthorized

    data = data_dir_of(ctx)
    session = load_session(data)
    if session is None:
        forget_session(data)  # an unreadable file goes too
        say("Not logged in; nothing to do.")
        return
    try:
        with connect(session) as api:
            api.logout()
        note = ""
    except ServerUnreachable as exc:
        note = f" The session was not revoked on the server ({exc.reason}); it expires on its own."
    except Unauthorized:
        note = " (The server had already ended that session.)"
    forget_session(data)
    say(f"Logged out {session.username} from {session.server}.{note}")
    try:
        waiting = list_outbox(config.client_db_path(data), session.username)
    except ChatkitError:
        waiting = []
    if waiting:
        n = len(waiting)
        say(f"{plural(n, 'unsent message')} {'stays' if n == 1 else 'stay'} in the outbox; "
            f"{'it is' if n == 1 else 'they are'} sent after you log in again.", err=True)


@app.command()
def users(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="Print a JSON array."),
):
    """List the people on the server."""
    from chatkit import config
    from chatkit.client.shapes import user_shape
    from chatkit.client.transport import connect

    from ..output import humanize, print_json, table

    session = session_of(ctx)
    with connect(session) as api:
        people = [user_shape(u) for u in api.users()]
    if json_:
        return print_json(people)
    tz = config.local_zone()
    rows = [[u["username"] + (" (you)" if u["username"] == session.username else ""),
             humanize(u["created_at"], tz), humanize(u["last_seen_at"], tz) or "never"] for u in people]
    table(["user", "joined", "last seen"], rows)
