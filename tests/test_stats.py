"""`chatkit stats`: tables, --json, --since, --tz, --plot and every error path."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from chatkit_cli.main import app

runner = CliRunner()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def stats(*args):
    return runner.invoke(app, ["stats", *args], env={"COLUMNS": "200"})


def cells(line):
    """The cells of one row of a rich table."""
    return [cell.strip() for cell in line.replace("┃", "│").split("│")]


def test_by_day_json(small_archive, logged_in):
    result = stats("--json", "--tz", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"date": "2026-03-28", "sent": 1, "received": 1, "total": 2},
        {"date": "2026-03-29", "sent": 0, "received": 2, "total": 2},
        {"date": "2026-03-30", "sent": 1, "received": 0, "total": 1},
        {"date": "2026-03-31", "sent": 0, "received": 0, "total": 0},
        {"date": "2026-04-01", "sent": 1, "received": 1, "total": 2},
    ]


def test_tz_from_the_environment(small_archive, logged_in, monkeypatch):
    monkeypatch.setenv("CHATKIT_TZ", "UTC")
    days = json.loads(stats("--json").stdout)
    assert days[0] == {"date": "2026-03-28", "sent": 1, "received": 2, "total": 3}


def test_since(small_archive, logged_in):
    days = json.loads(stats("--json", "--tz", "Europe/Berlin", "--since", "2026-03-30").stdout)
    assert [d["date"] for d in days] == ["2026-03-30", "2026-03-31", "2026-04-01"]
    assert sum(d["total"] for d in days) == 3


def test_by_peer_json_and_table(small_archive, logged_in):
    peers = json.loads(stats("--by", "peer", "--json", "--tz", "Europe/Berlin").stdout)
    assert [(p["peer"], p["messages"], p["median_reply_seconds"]) for p in peers] == [
        ("bob", 5, 750.0), ("carol", 2, None)]
    table = stats("--by", "peer", "--tz", "Europe/Berlin").stdout
    bob = next(line for line in table.splitlines() if line.strip().startswith("bob"))
    assert cells(bob) == ["bob", "5", "3", "2", "71%", "2026-04-01", "12 min", "2.5 d"]


def test_by_hour_table(small_archive, logged_in):
    result = stats("--by", "hour", "--tz", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = cells(next(line for line in lines if "Hour" in line))
    assert header == ["Hour", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "All"]
    assert cells(next(line for line in lines if line.strip().startswith("10 "))) == \
        ["10", "·", "·", "·", "·", "·", "2", "·", "2"]


def test_day_table_names_weekdays(small_archive, logged_in):
    result = stats("--tz", "Europe/Berlin")
    assert "Messages per day (alice)" in result.stdout
    assert "2026-03-31 Tue" in result.stdout


def test_account_option_reads_another_account(small_archive):
    days = json.loads(stats("--json", "--account", "zed").stdout)
    assert days == [{"date": "2026-03-31", "sent": 0, "received": 1, "total": 1}]


@pytest.mark.parametrize("by", ["day", "hour", "peer"])
def test_plot_writes_a_png(small_archive, logged_in, tmp_path, by):
    target = tmp_path / f"{by}.png"
    result = stats("--by", by, "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}." in result.stderr
    data = target.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000


@pytest.mark.parametrize("args, code, message", [
    (["--by", "month"], 2, "Error: Invalid --by 'month'; use day, hour or peer."),
    (["--since", "yesterday"], 2, "Error: Invalid date 'yesterday'; use YYYY-MM-DD."),
    (["--since", "2026-02-30"], 2, "Error: Invalid date '2026-02-30'; use YYYY-MM-DD."),
    (["--tz", "Mars/Base"], 2, "Error: Unknown time zone 'Mars/Base'; use a name like Europe/Berlin or UTC."),
    (["--plot", "chart.jpg"], 2, "Error: Invalid --plot 'chart.jpg'; the file name must end in .png."),
])
def test_bad_input_is_one_line(small_archive, logged_in, args, code, message):
    result = stats(*args)
    assert result.exit_code == code
    assert result.output.strip().splitlines()[0].startswith(message)
    assert len(result.output.strip().splitlines()) == 1


def test_unwritable_plot_path(small_archive, logged_in, tmp_path):
    result = stats("--plot", str(tmp_path / "no-such-dir" / "x.png"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: Cannot write ") and len(result.output.strip().splitlines()) == 1


def test_not_logged_in(small_archive):
    result = stats()
    assert result.exit_code == 3
    assert result.output == "Error: Not logged in. Run `chatkit login USER` first.\n"


def test_no_archive_yet(logged_in, isolated_data_dir):
    result = stats()
    assert result.exit_code == 1
    assert result.output.startswith("Error: No archive at ") and "run `chatkit demo`" in result.output
    assert not (isolated_data_dir / "client.db").exists()


def test_empty_archive_says_so(client_store, logged_in):
    result = stats()
    assert result.exit_code == 0
    assert result.stderr == "No messages for alice yet.\n"
    assert json.loads(stats("--json").stdout) == []


def test_cli_start_up_does_not_import_pandas_or_matplotlib():
    code = ("import sys, chatkit_cli.main; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ))
    assert result.stdout.strip() == "[]", result.stderr
