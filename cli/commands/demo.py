"""`chatkit demo`: build a realistic server.db and client.db to explore (chatkit.demo)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .. import output
from ..main import app, data_dir_of


@app.command()
def demo(
    ctx: typer.Context,
    seed: int = typer.Option(1, "--seed", metavar="N", help="Same seed, same people, messages and rhythm."),
    days: int = typer.Option(60, "--days", metavar="N", help="How many days of chat, ending now."),
    people: int = typer.Option(6, "--people", metavar="N", help="How many people (2 to 16); anna is one."),
    messages: int = typer.Option(3000, "--messages", metavar="N", help="How many messages they exchange."),
    force: bool = typer.Option(False, "--force", help="Replace server.db, client.db and session.json if present."),
    tz: str = typer.Option(None, "--tz", metavar="ZONE", help="Where the people live [default: local]."),
):
    """Build a demo server.db and client.db (anna's archive) in the data dir.

    People log in, chat, mistype passwords, get throttled, and live through a
    server outage, all through the real server and client code on a simulated
    clock. Ends by logging you in as anna.
    """
    from chatkit.analytics import resolve_zone
    from chatkit.demo import build_demo

    data_dir = data_dir_of(ctx)
    zone = resolve_zone(tz)
    started = time.monotonic()
    with _bar(messages) as progress:
        summary = build_demo(data_dir, seed=seed, days=days, people=people, messages=messages,
                             force=force, tz=zone, progress=progress)
    _print_summary(summary, time.monotonic() - started)


class _bar:
    """A rich progress bar on stderr while messages go out (drawn only on a terminal)."""

    def __init__(self, total: int):
        self.total = total

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = output.console(stderr=True)
        self.bar = None
        if not console.is_terminal:
            return None
        self.bar = Progress(TextColumn("Chatting"), BarColumn(), MofNCompleteColumn(), TextColumn("messages"),
                            TimeElapsedColumn(), console=console, transient=True)
        self.bar.start()
        self.task = self.bar.add_task("demo", total=self.total)
        return self.update

    def update(self, done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


def _print_summary(s, seconds: float) -> None:
    import os
    import sys

    names = ", ".join(s.people[:-1]) + f" and {s.people[-1]}"
    default = Path(s.data_dir) == Path("data") or os.environ.get("CHATKIT_DATA_DIR") == str(s.data_dir)
    lines = [
        f"Built the demo in {s.data_dir} in {seconds:.0f} s:",
        f"  {s.messages:,} messages between {names}, {s.first_day} to {s.last_day}",
        f"  client.db: {s.account}'s archive, {s.archive_messages:,} messages; you are logged in as {s.account}",
        f"  server.db: {s.logins} logins, {s.failed_logins} failed, {s.throttled} throttled, {s.logouts} logouts",
        f"  {s.outbox_failed} message to someone without an account waits in the outbox, failed",
        "",
        "Try next:",
        *([] if default else [f"  export CHATKIT_DATA_DIR={s.data_dir}"]),
        "  chatkit conversations              partners, most recent first",
        f"  chatkit history {s.top_partner:<19}the busiest conversation",
        "  chatkit search grüsse              finds Grüße too",
        "  chatkit stats --by hour            when people write (--plot hours.png draws it)",
        "  chatkit outbox                     the message that could not be delivered",
        "  chatkit browse                     Datasette with chatkit's titles and queries",
        f"  datasette {s.data_dir / 'client.db'}",
        "  jupyter lab notebooks/             per_day_stats.ipynb, login_activity.ipynb",
        f"  chatkit server                     then log in as anyone else (password {s.password!r})",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
