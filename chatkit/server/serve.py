"""`chatkit server`: the app under waitress, sized for long polls.

Waitress ties one thread to each request, and a long poll holds its thread
for up to 30 s, so the default pool is large (256) and bounded; long polls may
use all but a reserve of threads, so sends and logins always find one free.
The first log line says where the server listens and which database it uses.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from ..errors import ChatkitError

log = logging.getLogger("chatkit.server")

DEFAULT_THREADS = 256
MAX_THREADS = 2000


def poll_slots(threads: int) -> int:
    """Threads long polls may hold: all but a reserve of max(4, threads // 8)."""
    return max(1, threads - max(4, threads // 8))


def waitress_options(threads: int) -> dict:
    """The waitress settings `chatkit server` uses (the benchmark reuses them)."""
    return dict(threads=threads, connection_limit=max(1000, 4 * threads), asyncore_use_poll=True,
                ident="chatkit", clear_untrusted_proxy_headers=True)


def log_level_named(name: str) -> int:
    """`--log-level` / CHATKIT_LOG_LEVEL: a level name; anything else is a usage error."""
    from ..errors import UsageError

    level = logging.getLevelName(str(name).strip().upper())
    if not isinstance(level, int):
        raise UsageError(f"Unknown log level {name!r}; use DEBUG, INFO, WARNING or ERROR.")
    return level


def keep_hash_memory_returnable() -> bool:
    """Make glibc hand argon2's ~19 MiB buffers back to the OS after each hash.

    glibc serves big blocks with mmap, but after the first one is freed it
    raises its mmap threshold (up to 32 MiB) and serves the next ones from
    per-thread arenas, which keep them. With a few hundred threads the
    server's RSS went from 43 to ~410 MiB after 40 logins and kept growing
    under traffic (bench.load --soak). A fixed threshold turns that dynamic
    rise off. Linux/glibc only; elsewhere this does nothing.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-3, 1 << 20))  # M_MMAP_THRESHOLD = 1 MiB
    except (OSError, AttributeError):
        return False


def configure_logging(level=logging.INFO):
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def serve(data_dir, host: str = "127.0.0.1", port: int = 8000, threads: int | None = None,
          log_level: int = logging.INFO):
    """Run until Ctrl-C (SIGINT) or SIGTERM, then stop cleanly."""
    import waitress

    from . import create_app

    configure_logging(log_level)
    keep_hash_memory_returnable()
    threads = max(1, min(threads or DEFAULT_THREADS, MAX_THREADS))
    db_path = Path(data_dir) / "server.db"
    app = create_app({"DATABASE": str(db_path), "POLL_SLOTS": poll_slots(threads)})
    chatkit = app.extensions["chatkit"]
    try:
        server = waitress.create_server(app, host=host, port=port, **waitress_options(threads))
    except OSError as exc:
        chatkit.close()
        raise ChatkitError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    url = f"http://{_url_host(server.effective_host)}:{server.effective_port}"
    log.info("chatkit server listening on %s using database %s (%d threads)", url, db_path.resolve(), threads)
    log.debug("log level %s; %d long polls may wait at once", logging.getLevelName(log_level), poll_slots(threads))

    def stop(signum, frame):
        chatkit.waiters.close()  # release long polls so shutdown does not wait for them
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()  # returns after KeyboardInterrupt, once the worker threads stopped
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
        chatkit.close()
        log.info("chatkit server stopped")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
