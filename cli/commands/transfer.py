"""`chatkit export` and `chatkit import`: the archive as JSON Lines, out and in.

Export streams one message a line to stdout. Import reads a file (or `-`
for stdin) as bytes, hands the lines to `chatkit.client.transfer`, and shows
a progress bar on a terminal for files over a few thousand lines.
"""

from __future__ import annotations

import json as jsonlib
import os
import sys

import typer

from ..main import app, data_dir_of
from .. import output

PROGRESS_MIN_BYTES = 512 * 1024  # roughly 3,000 lines


@app.command()
def export(
    ctx: typer.Context,
    peer: str = typer.Option(None, "--peer", metavar="PEER", help="Only the conversation with PEER."),
):
    """The archive as JSON Lines on stdout, one message a line, oldest first."""
    from chatkit import config
    from chatkit.client import archive, transfer

    data_dir = data_dir_of(ctx)
    account = archive.current_account(data_dir)
    write, dumps = sys.stdout.write, jsonlib.JSONEncoder(ensure_ascii=False).encode
    with archive.open_archive(config.client_db_path(data_dir)) as conn:
        for message in transfer.export_messages(conn, account, peer):
            write(dumps(message) + "\n")
    sys.stdout.flush()


@app.command("import")
def import_(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="A JSON Lines file as `chatkit export` writes, or - for stdin."),
    account: str = typer.Option(None, "--account", metavar="NAME",
                                help="Import into NAME's archive [default: the logged-in account]."),
):
    """Add messages from a JSON Lines file to the archive; idempotent by id, all or nothing."""
    from chatkit import config
    from chatkit.client import archive, transfer
    from chatkit.errors import UsageError

    if account is not None and not transfer.USERNAME.fullmatch(account):
        raise UsageError(f"Invalid account name {account!r}; use letters, digits, '_', '.', '-'.")
    data_dir = data_dir_of(ctx)
    account = archive.current_account(data_dir, account)
    if file == "-":
        handle, size, source = sys.stdin.buffer, None, "stdin"
    else:
        try:
            handle = open(file, "rb")
            size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            raise UsageError(f"Cannot read {file}: {exc.strerror}.") from None
        source = file
    try:
        with archive.open_archive(config.client_db_path(data_dir)) as conn, _progress(size) as progress:
            result = transfer.import_messages(conn, handle, account, source=source, progress=progress)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    sys.stdout.write(f"Imported {result.imported:,} message{'s' * (result.imported != 1)} "
                     f"into {account}'s archive; {result.already_present:,} already present.\n")


class _progress:
    """A rich progress bar on a terminal (by bytes read), nothing otherwise."""

    def __init__(self, size):
        self.size, self.bar = size, None

    def __enter__(self):
        console = output.console(stderr=True)
        if not console.is_terminal or (self.size is not None and self.size < PROGRESS_MIN_BYTES):
            return None
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                            TextColumn("{task.fields[lines]:,} lines"), TimeRemainingColumn(),
                            console=console, transient=True)
        self.bar.start()
        self.task = self.bar.add_task("Importing", total=self.size, lines=0)
        return self.update

    def update(self, stage: str, lines: int, nbytes: int):
        if stage == "indexing":
            self.bar.update(self.task, description="Indexing", completed=self.size or nbytes, lines=lines)
        else:
            self.bar.update(self.task, completed=nbytes, lines=lines)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
