"""The `chatkit` command: one Typer app joined from small command modules.

Errors are handled once, here: a ChatkitError or a usage error becomes one
line on stderr and its exit code (DESIGN.md section 5); no traceback and no
usage panel reaches a person.
"""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x vendors click; older releases use the click package
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as click_exc

from chatkit.errors import EXIT_USAGE, ChatkitError

from .typer_fast import install as _fast_params

_fast_params()  # plain str/int options without importing Pydantic (start-up budget)


class ChatkitGroup(TyperGroup):
    """Runs the app in non-standalone mode so every failure is ours to print."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name or "chatkit",
                              complete_var=complete_var, standalone_mode=False, **extra)
        except ChatkitError as exc:
            _fail(exc.message, exc.exit_code)
        except click_exc.NoArgsIsHelpError as exc:
            sys.stdout.write((exc.ctx.get_help() if exc.ctx else str(exc)) + "\n")
            sys.exit(EXIT_USAGE)
        except click_exc.UsageError as exc:
            _fail(_usage_line(exc), EXIT_USAGE)
        except typer.Abort:  # typer defines Abort itself; its vendored click does not
            _fail("Aborted.", 130)
        except click_exc.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except KeyboardInterrupt:
            _fail("Interrupted.", 130)
        except BrokenPipeError:
            sys.exit(0)
        if isinstance(rv, int):
            sys.exit(rv)
        sys.exit(0)


def _usage_line(exc) -> str:
    message = exc.format_message().rstrip(".")
    ctx = exc.ctx
    parts = (ctx.command_path if ctx is not None else "chatkit").split()
    where = " ".join(["chatkit", *parts[1:]])
    return f"{message}. See '{where} --help'."


def _fail(message: str, code: int):
    sys.stderr.write(f"Error: {message}\n")
    sys.stderr.flush()
    sys.exit(code)


app = typer.Typer(
    cls=ChatkitGroup,
    help="chatkit: a chat you can keep. Every conversation lands in a local SQLite archive.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: str = typer.Option(
        None, "--data-dir", envvar="CHATKIT_DATA_DIR", metavar="DIR",
        help="Where server.db, client.db and session.json live [default: ./data].",
    ),
):
    """chatkit: a chat you can keep."""
    from chatkit import config

    ctx.obj = {"data_dir": config.data_dir(data_dir)}


def data_dir_of(ctx: typer.Context):
    """The resolved data dir from the app-wide option."""
    root = ctx.find_root()
    obj = root.obj or {}
    from chatkit import config

    return obj.get("data_dir") or config.data_dir()


# Command modules register themselves on `app` when imported.
from . import commands  # noqa: E402,F401


def run():
    app()
