"""A circuit breaker per channel: when the platform itself is down, pause, probe, resume.

Rows must not burn their attempts (and die) while nobody could deliver them, and an outage must be
two log lines (its start and its end, with counts), not one per call.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

OPEN_AFTER = 5            # consecutive failed calls (no success anywhere between) that mean the platform is in trouble
WINDOW_S = 120.0          # ... when they all fall within this long: one chat's retries (2, 4, 8, 16 s) do too
PROBE_FIRST_S = 2.0       # the first probe's wait once open; doubled up to PROBE_MAX_S
PROBE_MAX_S = 10.0        # one probe call this often at most: cheap, and the outage's end is seen within it


class Breaker:
    """Counts consecutive platform failures of one channel; open means: send only one probe at a time."""

    def __init__(self, channel: str, monotonic=time.monotonic) -> None:
        self.channel = channel
        self.monotonic = monotonic
        self.failures = 0           # consecutive, while closed
        self._streak_started = 0.0  # when the first of those failures came
        self.opened_at: float | None = None
        self.failed_while_open = 0
        self.held = 0               # rows put back because of the outage
        self.probe_wait = PROBE_FIRST_S
        self._next_probe = 0.0
        self._last_success = float("-inf")

    @property
    def is_open(self) -> bool:
        """Whether the channel is paused for an outage."""
        return self.opened_at is not None

    def probe_in(self) -> float:
        """Seconds until the next probe may go (0 when closed)."""
        return max(0.0, self._next_probe - self.monotonic()) if self.is_open else 0.0

    def failed(self, error: str | None, started: float | None = None) -> None:
        """A call failed in a way that says the platform may be in trouble (5xx, timeout, no connection).

        started (monotonic) is when the call was made: one made before the platform was last seen
        answering (a timeout still coming in from the outage) says nothing about now.
        """
        if started is not None and started < self._last_success:
            return
        if self.is_open:
            self.failed_while_open += 1
            self.probe_wait = min(PROBE_MAX_S, self.probe_wait * 2)
            self._next_probe = self.monotonic() + self.probe_wait
            return
        now = self.monotonic()
        if self.failures == 0 or now - self._streak_started > WINDOW_S:
            self.failures, self._streak_started = 0, now
        # One chat alone counts too: a lone chat's rows during an outage must not burn their attempts and die.
        # A fault of that chat only is told apart by the platform answering others: a success closes the
        # breaker, and the row's failures while closed count as its attempts, so it still dies in the end.
        self.failures += 1
        if self.failures >= OPEN_AFTER:
            self.opened_at = self.monotonic()
            self.failed_while_open = self.failures
            self.probe_wait = PROBE_FIRST_S
            self._next_probe = self.opened_at + self.probe_wait
            self.held = 0
            log.error("%s: outage started after %d failed calls (%s); pushes held, probing every %.0f-%.0f s",
                      self.channel, self.failures, (error or "no answer")[:200], PROBE_FIRST_S, PROBE_MAX_S)

    def succeeded(self) -> None:
        """A call went through: the platform answers again."""
        self.failures = 0
        self._last_success = self.monotonic()
        if self.opened_at is not None:
            log.warning("%s: outage ended after %.0f s (%d calls failed, %d rows held and now resumed)",
                        self.channel, self.monotonic() - self.opened_at, self.failed_while_open, self.held)
            self.opened_at = None
