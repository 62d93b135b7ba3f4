"""`chatkit browse`: Datasette on the data dir's databases, until Ctrl-C."""

from __future__ import annotations

import typer

from ..main import app, data_dir_of


@app.command()
def browse(
    ctx: typer.Context,
    port: int = typer.Option(8001, min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; anything but loopback shares your archive."),
    tz: str = typer.Option(None, "--tz", metavar="ZONE", help="Zone of the per-day queries [default: CHATKIT_TZ, TZ, system]."),
):
    """Explore client.db and server.db in Datasette (secrets are never served)."""
    import signal

    from chatkit.browse import browse_server

    from ..output import info

    server = browse_server(data_dir_of(ctx), host=host, port=port, tz=tz)
    names = ", ".join(path.name for path in server.databases)
    info(f"Datasette is serving {names} at {server.url} (Ctrl-C to stop).")
    if host not in ("127.0.0.1", "localhost", "::1"):
        info(f"Listening on {host}: other machines can read your archive.")

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        code = server.wait()
    except KeyboardInterrupt:
        server.stop()
        info("Stopped.")
        return
    if code:
        raise typer.Exit(code)
