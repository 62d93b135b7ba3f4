"""`python -m chatkit.browse.serve serve FILES...`: Datasette's own CLI plus our plugin.

The launcher runs this in a child process, so Datasette keeps its own
command line, signal handling and shutdown; registering the plugin here means
nothing needs installing and plain `datasette` stays unaffected.
"""

from __future__ import annotations

import sys


def main(argv=None) -> None:
    from datasette.cli import cli
    from datasette.plugins import pm  # first: it registers the default plugins

    import datasette.handle_exception

    from . import plugin

    # Datasette prints a rich traceback, with locals, for every 403 and 404 it
    # serves; our plugin logs one line per server-side error instead.
    datasette.handle_exception.rich = None

    if not pm.is_registered(plugin):
        pm.register(plugin, name="chatkit")
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="datasette")


if __name__ == "__main__":
    main()
