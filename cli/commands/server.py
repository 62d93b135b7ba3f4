"""`chatkit server`: run the relay under waitress."""

from __future__ import annotations

import typer

from ..main import app, data_dir_of


@app.command()
def server(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on."),
    threads: int = typer.Option(None, min=1, max=2000, help="Waitress worker threads (default sized for long polls)."),
    log_level: str = typer.Option("INFO", "--log-level", envvar="CHATKIT_LOG_LEVEL", metavar="LEVEL",
                                  help="DEBUG, INFO, WARNING or ERROR [default: INFO]."),
):
    """Run the chatkit server on <data-dir>/server.db."""
    from chatkit.server.serve import log_level_named, serve

    serve(data_dir_of(ctx), host=host, port=port, threads=threads, log_level=log_level_named(log_level))
