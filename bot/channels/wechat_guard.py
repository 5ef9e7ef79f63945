"""Freshness of WeChat / WeCom callbacks: the timestamp window and the signatures already accepted."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque

from bot.channels.wechat_common import Refused

log = logging.getLogger(__name__)

MAX_REMEMBERED = 200_000      # signatures kept at most; far above what the window holds at WeChat's rates


class Freshness:
    """Refuses stale, future and replayed callbacks without relying on the inbox's retention.

    A signature is remembered until its timestamp leaves the window; after that the timestamp alone
    refuses it. A repeat of the same signed body inside the window is a platform retry ('retry');
    the same signature over another body is a forgery (refused).
    """

    def __init__(self, platform: str, window_s: int, now=time.time) -> None:
        self.platform = platform
        self.window_s = window_s
        self.now = now
        self._seen: dict[str, tuple[str, float]] = {}
        self._order: deque[tuple[float, str]] = deque()

    def check_time(self, timestamp: str) -> int:
        """The timestamp as seconds, or Refused(403) when it is not a number inside the window."""
        try:
            seconds = int(timestamp)
        except (TypeError, ValueError) as exc:
            raise Refused(403, "bad timestamp") from exc
        skew = seconds - self.now()
        if abs(skew) > self.window_s:
            raise Refused(403, f"timestamp {skew:+.0f}s from now, outside the {self.window_s}s window")
        return seconds

    def remember(self, signature: str, timestamp: int, body: bytes) -> str:
        """'new' the first time a signature is seen, 'retry' for the same body again; Refused for another body."""
        self._forget_expired()
        digest = hashlib.sha256(body).hexdigest()
        seen = self._seen.get(signature)
        if seen is not None:
            if seen[0] == digest:
                return "retry"
            raise Refused(403, "signature replayed with another body")
        expires = timestamp + self.window_s
        self._seen[signature] = (digest, expires)
        self._order.append((expires, signature))
        return "new"

    def forget(self, signature: str) -> None:
        """Drop a signature taken but not stored (storage failed): the platform's retry of it is handled."""
        self._seen.pop(signature, None)

    def _forget_expired(self) -> None:
        now = self.now()
        while self._order and (self._order[0][0] < now or len(self._order) > MAX_REMEMBERED):
            _, signature = self._order.popleft()
            self._seen.pop(signature, None)
