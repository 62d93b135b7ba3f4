"""Where chatkit keeps its files and which time zone people read times in.

Resolved here once so that the CLI, the notebooks and the server agree
(DESIGN.md section 3). Nothing in this module touches the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "data"
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """`--data-dir`, else `CHATKIT_DATA_DIR`, else `./data`."""
    value = explicit or os.environ.get("CHATKIT_DATA_DIR") or DEFAULT_DATA_DIR
    return Path(value).expanduser()


def server_db_path(explicit=None) -> Path:
    return data_dir(explicit) / "server.db"


def client_db_path(explicit=None) -> Path:
    return data_dir(explicit) / "client.db"


def session_path(explicit=None) -> Path:
    return data_dir(explicit) / "session.json"


def tz_name(explicit: str | None = None) -> str | None:
    """`--tz`, else `CHATKIT_TZ`, else `TZ`; None means the system zone."""
    return explicit or os.environ.get("CHATKIT_TZ") or os.environ.get("TZ") or None


def local_zone(explicit: str | None = None):
    """A tzinfo for the zone people read times in.

    Raises UsageError for a zone name that does not exist, so `--tz Mars/Base`
    is a usage error rather than a traceback.
    """
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from .errors import UsageError

    name = tz_name(explicit)
    if not name:
        return system_zone() or datetime.now().astimezone().tzinfo
    name = name.lstrip(":")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError, OSError):
        raise UsageError(f"Unknown time zone {name!r}; use a name like Europe/Berlin or UTC.")


def system_zone():
    """The system's named zone (so DST is right), or None if it has no name.

    `datetime.now().astimezone().tzinfo` is a fixed offset: it would put every
    winter message an hour off in summer. /etc/localtime names the zone.
    """
    import os
    from zoneinfo import ZoneInfo

    link = os.path.realpath("/etc/localtime")
    if "zoneinfo/" in link:
        try:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
        except (ValueError, OSError):
            return None
    try:
        with open("/etc/timezone", encoding="utf-8") as handle:
            return ZoneInfo(handle.read().strip())
    except (OSError, ValueError):
        return None
