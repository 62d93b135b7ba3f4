"""One way to write a moment in each place it is written.

Both databases store naive UTC text in Pony's own format
('YYYY-MM-DD HH:MM:SS.ffffff'), so rows written by Pony, by bulk
`executemany` and by SQL compare as strings. JSON carries ISO 8601 UTC
ending in 'Z'.
"""

from __future__ import annotations

from datetime import datetime, timezone

DB_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


simulated_now = None  # chatkit.demo replays weeks in seconds through the real code: its clock


def utcnow() -> datetime:
    """Naive UTC now, the form Pony stores."""
    if simulated_now is not None:
        return simulated_now()
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def to_db(value: datetime) -> str:
    return to_naive_utc(value).strftime(DB_FORMAT)


def from_db(text: str | datetime | None) -> datetime | None:
    if text is None or isinstance(text, datetime):
        return text
    return datetime.fromisoformat(text)


def iso_z(value: datetime | str | None) -> str | None:
    """ISO 8601 UTC with a 'Z'; microseconds kept when present, so round trips are exact."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = to_naive_utc(value)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 (with 'Z' or an offset; naive means UTC) to naive UTC.

    Raises ValueError on anything else, so callers can name the bad field.
    """
    if not isinstance(text, str) or not text or len(text) > 40:
        raise ValueError("not an ISO 8601 timestamp")
    value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return to_naive_utc(value)
