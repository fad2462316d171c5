"""Send policies and the guardrails' parts, without a scheduler: what is accepted, what is
refused (by field), and how the token bucket refills."""

from __future__ import annotations

import pytest

from safar.errors import ValidationFailed
from safar.orchestration.limits import ContactBudget, Guards, RateLimiter, parse_rates
from safar.orchestration.policy import SendPolicy
from safar.orchestration.schemas import TriggerCreate


def test_a_policy_travels_as_a_dict_and_refuses_what_cannot_work() -> None:
    policy = SendPolicy(topic="winback", consent_purpose="marketing", quiet_start=22, quiet_end=8)
    assert SendPolicy.from_dict(policy.to_dict()) == policy
    assert SendPolicy.from_dict(None) == SendPolicy()
    bad = [
        ({"topic": ""}, "policy.topic"),
        ({"quiet_start": 24, "quiet_end": 8}, "policy.quiet_start"),
        ({"quiet_start": 22}, "policy.quiet_end"),
        ({"timezone": "Mars/Base"}, "policy.timezone"),
        ({"fatigue_days": -1}, "policy.fatigue_days"),
        ({"transactional": "yes"}, "policy.transactional"),
        ({"budget": 3}, "policy"),
    ]
    for data, field in bad:
        with pytest.raises(ValidationFailed) as caught:
            SendPolicy.from_dict(data)
        assert caught.value.field == field, data


def test_a_triggers_columns_map_onto_a_policy() -> None:
    data = TriggerCreate(
        name="t",
        event="order_delivered",
        action="survey",
        topic="survey",
        fatigue_days=30,
        quiet_start=22,
        quiet_end=8,
        timezone="Asia/Dubai",
        consent_purpose="surveys",
        require_consent=True,
    )
    policy = SendPolicy.from_trigger(data)
    assert policy == SendPolicy(
        topic="survey",
        consent_purpose="surveys",
        require_consent=True,
        quiet_start=22,
        quiet_end=8,
        timezone="Asia/Dubai",
        fatigue_days=30.0,
    )
    # The customer's own zone wins over the policy's; a nonsense trait does not.
    assert policy.zone_for({"timezone": "Europe/Paris"}, "UTC") == "Europe/Paris"
    assert policy.zone_for({"timezone": "Nowhere"}, "UTC") == "Asia/Dubai"
    assert SendPolicy().zone_for({}, "Asia/Tehran") == "Asia/Tehran"


def test_budgets_and_rates_parse_or_say_which_setting_is_wrong() -> None:
    assert ContactBudget.parse("1/day") == ContactBudget(1, "day")
    assert ContactBudget.parse(" ") is None and ContactBudget.parse(None) is None
    assert parse_rates("sms=20/s, push=120/min") == {"sms": 20.0, "push": 2.0}
    with pytest.raises(ValidationFailed) as caught:
        ContactBudget.parse("3 per week")
    assert caught.value.field == "contact_budget"
    with pytest.raises(ValidationFailed) as caught:
        parse_rates("sms=0/s")
    assert caught.value.field == "rate_limits"


def test_the_token_bucket_refills_at_its_rate_and_ignores_a_clock_set_back() -> None:
    limiter = RateLimiter({"sms": 2.0})
    # A burst of two, then the refused are spread over the coming slots, one per token.
    assert [limiter.take("sms", 100.0) for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    assert limiter.take("sms", 100.5) == 0.0  # the first held one comes back: a token is there
    assert limiter.take("sms", 101.0) == 0.0
    assert limiter.take("sms", 101.0) == 0.5  # the next free slot
    assert limiter.take("sms", 50.0) == 0.5  # back in time: nothing refilled
    assert limiter.take("email", 0.0) == 0.0  # no limit configured


def test_retries_back_off_exponentially_unless_the_provider_says_when() -> None:
    guards = Guards()
    assert [guards.retry_delay(n, None) for n in (1, 2, 3, 4)] == [30.0, 60.0, 120.0, 240.0]
    assert guards.retry_delay(20, None) == 3600.0
    assert guards.retry_delay(1, 7.0) == 7.0
