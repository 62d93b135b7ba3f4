"""The CLI shell: one-line errors, usage exit codes, help everywhere."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from chatkit_cli.main import app

runner = CliRunner()


def test_unknown_command_is_one_line_usage_error():
    result = runner.invoke(app, ["bogus"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: No such command 'bogus'. See 'chatkit --help'."]


def test_bad_option_value_is_one_line_usage_error():
    result = runner.invoke(app, ["server", "--port", "abc"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Invalid value for '--port'")
    assert "Traceback" not in result.output


def test_every_command_has_help():
    from chatkit_cli.main import ChatkitGroup  # noqa: F401
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert command.help, f"chatkit {name} has no help text"
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_console_script_runs_as_a_process():
    result = subprocess.run([sys.executable, "-m", "chatkit_cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "chat you can keep" in result.stdout
