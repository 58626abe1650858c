"""When a webhook delivery is retried, and how long it waits first.

Schedule: attempt ``n`` (1 = the first) that fails with a retryable outcome is retried after
``base * 4 ** (n - 1)`` seconds, multiplied by a random factor in ``[0.8, 1.2]`` (jitter),
capped at ``max_delay``. With the defaults (``SUBLARR_WEBHOOK_RETRY_BASE=5``,
``SUBLARR_WEBHOOK_RETRY_MAX=3600``) the waits are about 5 s, 20 s, 80 s, 5 min 20 s,
21 min, then 1 h. A ``Retry-After`` header (seconds or an HTTP date) raises the wait to
what the receiver asked for, still capped at ``max_delay``.

Retried: connection errors, timeouts, 408, 429 and 5xx. Not retried: every other status
outside 2xx (3xx and 4xx); 410 Gone also disables the webhook.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS = frozenset({408, 429})
GONE = 410
FACTOR = 4.0
JITTER = 0.2


def is_retryable_status(status_code: int) -> bool:
    """Whether a delivery answered with ``status_code`` should be tried again."""
    return status_code in RETRYABLE_STATUS or 500 <= status_code <= 599


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """The backoff schedule; ``base`` and ``max_delay`` in seconds."""

    base: float = 5.0
    max_delay: float = 3600.0
    factor: float = FACTOR
    jitter: float = JITTER

    def nominal_delay(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based), before jitter."""
        exponent = max(0, attempt - 1)
        try:
            delay = self.base * self.factor**exponent
        except OverflowError:
            delay = self.max_delay
        return min(self.max_delay, delay)

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before the attempt after ``attempt``, jittered, honouring ``retry_after``."""
        spread = (rng or random).uniform(1.0 - self.jitter, 1.0 + self.jitter)
        delay = min(self.max_delay, self.nominal_delay(attempt) * spread)
        if retry_after is not None:
            delay = max(delay, min(self.max_delay, retry_after))
        return delay
