"""`chatkit backup` and `chatkit restore`: consistent copies of the databases."""

from __future__ import annotations

import typer

from ..main import app, data_dir_of


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


@app.command()
def backup(
    ctx: typer.Context,
    to: str = typer.Option(None, "--to", metavar="FILE",
                           help="Where to write the copy [default: <data-dir>/client-backup-<UTC time>.db]."),
    server: bool = typer.Option(False, "--server", help="Back up server.db instead of client.db."),
):
    """A consistent copy of client.db (or server.db), safe while chatkit is running."""
    from chatkit import config
    from chatkit.client.backup import backup_database

    data_dir = data_dir_of(ctx)
    source = config.server_db_path(data_dir) if server else config.client_db_path(data_dir)
    done = backup_database(source, to)
    print(f"Backed up {done.source} to {done.target} ({_size(done.size)}).")


@app.command()
def restore(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="A backup made by `chatkit backup`."),
    force: bool = typer.Option(False, "--force", help="Replace an existing database (it is kept beside it)."),
):
    """Check a backup and put it in place of client.db (or server.db, whichever it is)."""
    from chatkit.client.backup import restore_database

    done = restore_database(file, data_dir_of(ctx), force=force)
    if done.kept is not None:
        print(f"Kept the replaced database as {done.kept}.")
    print(f"Restored {done.target} from {done.source} ({_size(done.size)}).")
