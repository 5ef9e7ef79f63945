"""How times are stored: aware UTC datetimes as ISO-8601 text, and the local day of a moment."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def iso(moment: datetime) -> str:
    """Format an aware datetime as the stored UTC text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    """Parse stored UTC text back into an aware datetime."""
    return datetime.fromisoformat(text)


def local_day(moment: datetime, tz: ZoneInfo) -> str:
    """The local calendar day of a moment as 'YYYY-MM-DD'."""
    return moment.astimezone(tz).date().isoformat()
