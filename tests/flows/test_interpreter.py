"""The pure journey interpreter: the same inputs give the same state and commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from safar.errors import ValidationFailed
from safar.flows.definition import parse
from safar.flows.interpreter import (
    Act,
    Choose,
    Chosen,
    Entered,
    EventSeen,
    Facts,
    Finished,
    Listen,
    Reached,
    Sleep,
    Start,
    State,
    TimerFired,
    advance,
)
from tests.flows.factories import birthday_flow, cart_flow, detractor_flow

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def facts(at: datetime = NOW, **traits: Any) -> Facts:
    return Facts(now=at, tz="Asia/Tehran", language="fa", traits=traits)


def kinds(commands: list[Any]) -> list[str]:
    return [type(c).__name__ for c in commands]


def test_cart_journey_waits_then_reminds_then_ends_on_purchase() -> None:
    flow = parse(cart_flow())
    st, out = advance(flow, State(), Start(facts(), seed="p1"))
    assert kinds(out) == ["Listen", "Sleep"] and st.status == "waiting"
    sleep = out[1]
    assert isinstance(sleep, Sleep) and sleep.until == NOW + timedelta(hours=1)
    # the hour passes without a purchase: the customer enters and gets the reminder
    st, out = advance(flow, st, TimerFired(facts(sleep.until), token=sleep.token))
    assert isinstance(out[0], Entered) and not out[0].control
    acts = [c for c in out if isinstance(c, Act)]
    assert [(a.node, a.key) for a in acts] == [("remind", "remind:1")]
    listen = [c for c in out if isinstance(c, Listen) and c.token]
    assert listen[0].event == "Order Completed"
    # the purchase is the goal: the journey ends before the second reminder
    st, out = advance(
        flow, st, EventSeen(facts(sleep.until + timedelta(hours=2)), "Order Completed")
    )
    assert out == [Finished("goal")] and st.status == "done"


def test_purchase_within_the_window_means_the_customer_never_enters() -> None:
    flow = parse(cart_flow())
    st, _ = advance(flow, State(), Start(facts(), seed="p1"))
    st, out = advance(flow, st, EventSeen(facts(NOW + timedelta(minutes=10)), "Order Completed"))
    assert out == [Finished("not entered: Order Completed")]
    assert st.entered_at is None


def test_a_stale_timer_is_ignored() -> None:
    flow = parse(cart_flow())
    st, out = advance(flow, State(), Start(facts(), seed="p1"))
    before = st.model_copy(deep=True)
    st, out = advance(flow, st, TimerFired(facts(NOW + timedelta(days=1)), token=99))
    assert out == [] and st == before


def test_wait_timeout_takes_the_timeout_edge() -> None:
    flow = parse(cart_flow(goal=None))
    st, out = advance(flow, State(), Start(facts(), seed="p1"))
    st, out = advance(flow, st, TimerFired(facts(NOW + timedelta(hours=1)), out[1].token))
    timeout = next(c for c in out if isinstance(c, Sleep))
    st, out = advance(flow, st, TimerFired(facts(timeout.until), timeout.token))
    assert [c.node for c in out if isinstance(c, Act)] == ["again"]
    assert out[-1] == Finished("completed")


def test_birthday_waits_for_the_jalali_day_at_ten_tehran_time() -> None:
    flow = parse(birthday_flow())
    # born 1990-05-17 = 27 Ordibehesht 1369; in 1406 that is 2027-05-17, 10:00 +03:30
    st, out = advance(flow, State(), Start(facts(birthday="1990-05-17", first_name="Sara"), "p"))
    (sleep,) = out
    assert isinstance(sleep, Sleep)
    assert sleep.until == datetime(2027, 5, 17, 6, 30, tzinfo=UTC)
    st, out = advance(flow, st, TimerFired(facts(sleep.until), sleep.token))
    assert kinds(out) == ["Entered", "Reached", "Act", "Finished"]


def test_a_profile_without_the_date_trait_is_finished_with_the_reason() -> None:
    flow = parse(birthday_flow())
    _, out = advance(flow, State(), Start(facts(), "p"))
    assert out == [Finished("missing trait birthday")]


def test_branches_ask_the_runtime_and_follow_its_answer() -> None:
    flow = parse(detractor_flow())
    st, out = advance(flow, State(), Start(facts(), "p"))
    choose = out[-1]
    assert isinstance(choose, Choose) and choose.node == "vip"
    _, nothing = advance(flow, st, Chosen(facts(), choose.token + 1, "call"))
    assert nothing == []
    st, out = advance(flow, st, Chosen(facts(), choose.token, "call"))
    assert [c.node for c in out if isinstance(c, Act)] == ["call"]
    assert out[-1] == Finished("completed")


def split_flow(holdout: float = 0) -> dict[str, Any]:
    send = {"type": "send", "channel": "sms", "texts": {"fa": {"body": "x"}}}
    return {
        "name": "A/B",
        "trigger": {"type": "api"},
        "start": "ab",
        "holdout_percent": holdout,
        "nodes": [
            {
                "id": "ab",
                "type": "split",
                "paths": [{"percent": 30, "next": "a"}, {"percent": 70, "next": "b"}],
            },
            {"id": "a", **send},
            {"id": "b", **send},
        ],
    }


def test_splits_are_deterministic_per_seed_and_near_their_shares() -> None:
    flow = parse(split_flow())
    picks = []
    for i in range(2000):
        _, out = advance(flow, State(), Start(facts(), f"profile-{i}"))
        picks.append(next(c.node for c in out if isinstance(c, Act)))
        _, again = advance(flow, State(), Start(facts(), f"profile-{i}"))
        assert next(c.node for c in again if isinstance(c, Act)) == picks[-1]
    share = picks.count("a") / len(picks)
    assert 0.27 < share < 0.33


def test_the_holdout_walks_the_journey_marked_as_control() -> None:
    flow = parse(split_flow(holdout=20))
    control = 0
    for i in range(1000):
        _, out = advance(flow, State(), Start(facts(), f"p{i}"))
        entered = out[0]
        assert isinstance(entered, Entered)
        act = next(c for c in out if isinstance(c, Act))
        assert act.control == entered.control
        control += entered.control
    assert 160 < control < 240


def test_reached_counts_visits_and_keys_are_unique_per_visit() -> None:
    flow = parse(
        {
            "name": "Weekly nudge",
            "trigger": {"type": "api"},
            "start": "nudge",
            "nodes": [
                {
                    "id": "nudge",
                    "type": "send",
                    "channel": "sms",
                    "texts": {"fa": {"body": "x"}},
                    "next": "week",
                },
                {"id": "week", "type": "delay", "seconds": 604800, "next": "nudge"},
            ],
        }
    )
    st, out = advance(flow, State(), Start(facts(), "p"))
    keys = [c.key for c in out if isinstance(c, Act)]
    sleep = next(c for c in out if isinstance(c, Sleep))
    st, out = advance(flow, st, TimerFired(facts(sleep.until), sleep.token))
    keys += [c.key for c in out if isinstance(c, Act)]
    assert keys == ["nudge:1", "nudge:2"]
    assert Reached("week", 2) in out


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "nowhere"}, "start"),
        (
            {"nodes": [{"id": "a", "type": "exit"}, {"id": "b", "type": "exit"}], "start": "a"},
            "nodes.b",
        ),
        (
            {
                "nodes": [
                    {"id": "a", "type": "set_trait", "key": "x", "value": 1, "next": "b"},
                    {"id": "b", "type": "set_trait", "key": "y", "value": 1, "next": "a"},
                ],
                "start": "a",
            },
            "nodes.a.next",
        ),
        (
            {
                "nodes": [
                    {
                        "id": "ab",
                        "type": "split",
                        "paths": [{"percent": 30, "next": None}, {"percent": 60, "next": None}],
                    }
                ],
                "start": "ab",
            },
            "nodes.ab.paths",
        ),
        (
            {"nodes": [{"id": "a", "type": "send", "channel": "fax", "texts": {}}], "start": "a"},
            "nodes.a.channel",
        ),
        ({"nodes": [{"id": "a", "type": "exit", "next": "b"}], "start": "a"}, "nodes.a.next"),
        ({"trigger": {"type": "schedule", "cron": "every day"}}, "trigger"),
    ],
)
def test_bad_definitions_name_the_node_and_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse(split_flow() | change)
    assert info.value.field == field, info.value.message


def test_templates_read_segment_camel_case_traits_and_persian_helpers() -> None:
    from datetime import date

    from safar.flows import templates

    ctx = templates.context(
        traits={"firstName": "سارا", "total": 1250},
        properties={"n": 42},
        profile_id="p",
        now=datetime(2026, 3, 21, 9, 0, tzinfo=UTC),
    )
    out = templates.render(
        "{{ first_name }} {{ traits.first_name }} {{ event.n | fa_digits }} {{ now | jalali('%Y/%m/%d') }}",
        ctx,
    )
    assert out == "سارا سارا ۴۲ 1405/01/01"
    assert templates.render("{{ last_name | default('دوست') }}", ctx) == "دوست"
    assert (
        templates.render("{{ d | gregorian('%Y-%m-%d') }}", {"d": date(2026, 1, 2)}) == "2026-01-02"
    )
