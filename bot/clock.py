"""Time in one place, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.times import iso, local_day, parse_iso  # the stored form lives with storage

__all__ = ["Clock", "FakeClock", "iso", "local_day", "parse_iso"]


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
