"""Time in one place, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """The real clock: aware UTC datetimes."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)


class FakeClock(Clock):
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 4, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """Return the frozen time."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to a moment (aware datetime)."""
        self._now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        """Move forward by a timedelta's keywords (minutes=5, days=1, ...)."""
        self._now += timedelta(**delta)


def iso(moment: datetime) -> str:
    """Format an aware datetime as the stored UTC text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    """Parse stored UTC text back into an aware datetime."""
    return datetime.fromisoformat(text)


def local_day(moment: datetime, tz: ZoneInfo) -> str:
    """The local calendar day of a moment as 'YYYY-MM-DD'."""
    return moment.astimezone(tz).date().isoformat()
