"""How many requests a token may make: a fixed window per token, counted in this process's memory.

Each web process counts on its own (``ehcflow serve`` runs several), so the limit a caller meets is at most the
setting times the number of processes; it is there to stop a runaway client hogging the service, not to meter it.
``API_RATE_LIMIT`` (requests per token per ``API_RATE_WINDOW`` seconds) sets it (docs/api.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window ends


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._now = limit, window_seconds, now
        self._counts: dict[int, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: int | str) -> Verdict:
        with self._lock:
            now = self._now()
            start, count = self._counts.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            retry = max(1, math.ceil(self.window - (now - start)))
            if count >= self.limit:
                return Verdict(False, self.limit, 0, retry)
            self._counts[key] = (start, count + 1)
            return Verdict(True, self.limit, self.limit - count - 1, retry)
