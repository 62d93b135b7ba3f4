"""Printing for people and for scripts: rich tables on a terminal, exact JSON with --json.

Colour follows rich's rules: off when NO_COLOR is set or stdout is not a
terminal. Heavy rich modules are imported only when a table is drawn.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone


def print_json(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=None) + "\n")


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def table(columns: list[str], rows: list[list[str]], title: str | None = None) -> None:
    from rich.table import Table

    t = Table(title=title, show_edge=False, pad_edge=False, header_style="bold")
    for name in columns:
        t.add_column(name, overflow="fold")
    for row in rows:
        t.add_row(*row)
    console().print(t)


def info(message: str) -> None:
    """A line for the person, on stderr so stdout stays clean for pipes."""
    sys.stderr.write(message + "\n")


def local_time(value: datetime | str | None, tz) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(tz)


def humanize(value: datetime | str | None, tz, now: datetime | None = None) -> str:
    """'14:05' today, 'yesterday 09:12', 'Mon 18:30' this week, else '2026-03-14 18:30'."""
    when = local_time(value, tz)
    if when is None:
        return ""
    now = (now or datetime.now(timezone.utc)).astimezone(tz)
    days = (now.date() - when.date()).days
    if days == 0:
        return when.strftime("%H:%M")
    if days == 1:
        return when.strftime("yesterday %H:%M")
    if 1 < days < 7:
        return when.strftime("%a %H:%M")
    return when.strftime("%Y-%m-%d %H:%M")


def preview(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
