"""Contact policies not tied to a trigger, and the reason codes of every skip and hold.

A ``SendPolicy`` travels with a message job (``scheduled_jobs.policy``) so journeys and surveys
go through the same checks: consent, fatigue per topic, quiet hours in the customer's own time
zone, and the contact budget every non-transactional message shares. A trigger's columns map
onto one (``from_trigger``). Pure: no session, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from safar.errors import ValidationFailed
from safar.kit.calendar import QuietHours

#: Why a job was skipped, held or failed (``scheduled_jobs.reason``).
REASONS = (
    "consent",
    "cap",
    "quiet_hours",
    "rate_limit",
    "missing_address",
    "fatigue",
    "paused",
    "error",
)


class PolicyFields(Protocol):
    """What ``from_trigger`` reads: a trigger row or a ``TriggerCreate``."""

    @property
    def topic(self) -> str: ...
    @property
    def consent_purpose(self) -> str | None: ...
    @property
    def require_consent(self) -> bool: ...
    @property
    def quiet_start(self) -> int | None: ...
    @property
    def quiet_end(self) -> int | None: ...
    @property
    def timezone(self) -> str: ...
    @property
    def fatigue_days(self) -> float: ...


def valid_zone(name: object) -> str | None:
    """``name`` when it is a known IANA zone, else None (a customer's trait may be anything)."""
    if not isinstance(name, str) or not name or len(name) > 60:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """How one message may reach a customer.

    ``quiet_start``/``quiet_end`` are local hours in the customer's zone (their ``timezone``
    trait when valid, else ``timezone``, else the installation's). ``transactional`` messages
    bypass the contact budget (and do not use it up); fatigue is per ``topic``.
    """

    topic: str = "marketing"
    transactional: bool = False
    consent_purpose: str | None = None
    require_consent: bool = False
    quiet_start: int | None = None
    quiet_end: int | None = None
    timezone: str | None = None
    fatigue_days: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.topic, str) or not 1 <= len(self.topic) <= 40:
            raise ValidationFailed("policy.topic: 1 to 40 characters", field="policy.topic")
        for name in ("transactional", "require_consent"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationFailed(f"policy.{name}: true or false", field=f"policy.{name}")
        purpose = self.consent_purpose
        if purpose is not None and (not isinstance(purpose, str) or not 1 <= len(purpose) <= 80):
            raise ValidationFailed(
                "policy.consent_purpose: 1 to 80 characters", field="policy.consent_purpose"
            )
        for name in ("quiet_start", "quiet_end"):
            hour = getattr(self, name)
            if hour is not None and (type(hour) is not int or not 0 <= hour <= 23):
                raise ValidationFailed(
                    f"policy.{name}: an hour from 0 to 23", field=f"policy.{name}"
                )
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationFailed(
                "policy.quiet_end: quiet hours need both a start and an end",
                field="policy.quiet_end",
            )
        if self.timezone is not None and valid_zone(self.timezone) is None:
            raise ValidationFailed(
                f"policy.timezone: unknown time zone {str(self.timezone)[:60]!r}",
                field="policy.timezone",
            )
        days = self.fatigue_days
        if isinstance(days, bool) or not isinstance(days, int | float) or not 0 <= days <= 3650:
            raise ValidationFailed(
                "policy.fatigue_days: a number of days from 0 to 3650", field="policy.fatigue_days"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SendPolicy:
        """The policy a job stored (or a caller sent); unknown keys are refused by name."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValidationFailed("policy: an object", field="policy")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ValidationFailed(f"policy.{str(key)[:40]}: unknown field", field="policy")
        return cls(**dict(data))

    @classmethod
    def from_trigger(cls, trigger: PolicyFields) -> SendPolicy:
        """The policy today's trigger columns describe (triggers are never transactional)."""
        return cls(
            topic=trigger.topic,
            consent_purpose=trigger.consent_purpose,
            require_consent=trigger.require_consent,
            quiet_start=trigger.quiet_start,
            quiet_end=trigger.quiet_end,
            timezone=trigger.timezone,
            fatigue_days=float(trigger.fatigue_days),
        )

    def zone_for(self, traits: Mapping[str, Any], default: str) -> str:
        """The customer's zone: their ``timezone`` trait when valid, else the policy's."""
        return valid_zone(traits.get("timezone")) or self.timezone or default

    def quiet_hours(self, tz: str) -> QuietHours | None:
        if self.quiet_start is None or self.quiet_end is None:
            return None
        return QuietHours(self.quiet_start, self.quiet_end, tz)
