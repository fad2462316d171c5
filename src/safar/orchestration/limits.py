"""The scheduler's guardrails from settings: the contact budget, per-channel rate limits,
retries.

``ContactBudget`` caps non-transactional messages per customer per local calendar period (the
week starts on Saturday in Iran); ``RateLimiter`` is an in-process token bucket per channel,
fed by the scheduler's own clock so tests move time by hand. Over either limit nothing is lost:
the budget skips with reason ``cap``, the rate limit holds the job for a moment.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from safar.config import Settings
from safar.errors import ValidationFailed

BUDGET_PERIODS = ("day", "week", "month")
RATE_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}
_BUDGET = re.compile(r"^\s*(\d+)\s*/\s*(day|week|month)\s*$")
_RATE = re.compile(r"^\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*/\s*(s|min|h)\s*$")


@dataclass(frozen=True, slots=True)
class ContactBudget:
    """At most ``limit`` non-transactional messages per customer per local ``period``."""

    limit: int
    period: str = "week"

    @classmethod
    def parse(cls, text: str | None) -> ContactBudget | None:
        """``"3/week"``, ``"1/day"``; None or blank turns the budget off."""
        if text is None or not text.strip():
            return None
        match = _BUDGET.match(text)
        if match is None:
            raise ValidationFailed(
                "contact_budget: use N/day, N/week or N/month, e.g. 3/week", field="contact_budget"
            )
        return cls(int(match[1]), match[2])

    def __str__(self) -> str:
        return f"{self.limit}/{self.period}"


def parse_rates(text: str | None) -> dict[str, float]:
    """``"sms=20/s,email=50/s"`` as messages per second per channel."""
    rates: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = _RATE.match(part)
        if match is None:
            raise ValidationFailed(
                f"rate_limits: {part.strip()[:40]!r} is not channel=N/s (or /min, /h)",
                field="rate_limits",
            )
        per_s = float(match[2]) / RATE_UNITS[match[3]]
        if per_s <= 0:
            raise ValidationFailed("rate_limits: a rate must be above zero", field="rate_limits")
        rates[match[1]] = per_s
    return rates


class RateLimiter:
    """Token buckets per channel: ``rate`` tokens a second, bursts up to one second's worth.

    A refused send is told to come back at the next slot not promised to an earlier refusal,
    so a backlog returns at the channel's rate instead of all at once (each pass would
    otherwise claim and hold the whole backlog again).
    """

    def __init__(self, rates: dict[str, float] | None = None) -> None:
        self.rates = dict(rates or {})
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, channel: str, now: float) -> float:
        """Take one token: 0 when the send may go now, else the seconds to wait."""
        rate = self.rates.get(channel)
        if rate is None:
            return 0.0
        capacity = max(1.0, rate)
        with self._lock:
            tokens, at = self._buckets.get(channel, (capacity, now))
            if now < at:  # a clock set back (tests, NTP): refill nothing, forget the slots
                self._next_slot.pop(channel, None)
            tokens = min(capacity, tokens + max(0.0, now - at) * rate)
            if tokens >= 1.0:
                self._buckets[channel] = (tokens - 1.0, now)
                return 0.0
            self._buckets[channel] = (tokens, now)
            slot = max(self._next_slot.get(channel, now), now + (1.0 - tokens) / rate)
            self._next_slot[channel] = slot + 1.0 / rate
            return slot - now


@dataclass
class Guards:
    """What the scheduler enforces beyond each job's own policy."""

    timezone: str = "Asia/Tehran"
    budget: ContactBudget | None = None
    #: Per-workspace budgets that replace ``budget`` there (None: no budget in that workspace).
    workspace_budgets: dict[str, ContactBudget | None] = field(default_factory=dict)
    week_start: str = "auto"
    limiter: RateLimiter = field(default_factory=RateLimiter)
    #: Channel attempts before a retryable failure becomes ``failed`` (the dead letters).
    max_attempts: int = 5
    #: First retry delay; doubled on each attempt, capped by ``max_retry_s``.
    retry_base_s: float = 30.0
    max_retry_s: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Guards:
        return cls(
            timezone=settings.timezone,
            budget=ContactBudget.parse(settings.contact_budget),
            workspace_budgets={
                ws: ContactBudget.parse(text) for ws, text in settings.contact_budgets.items()
            },
            week_start=settings.week_start,
            limiter=RateLimiter(parse_rates(settings.rate_limits)),
        )

    def budget_for(self, workspace_id: str) -> ContactBudget | None:
        if workspace_id in self.workspace_budgets:
            return self.workspace_budgets[workspace_id]
        return self.budget

    def retry_delay(self, attempts: int, retry_after: float | None) -> float:
        """Seconds before the next attempt: the provider's ``Retry-After`` when it gave one."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, 86400.0)
        return float(min(self.retry_base_s * 2 ** max(0, attempts - 1), self.max_retry_s))
