"""Cases opened by rules from ingested events: detractor survey answers and ``Case Requested``
(what a journey's case step writes), once per source however often the events are replayed."""

from __future__ import annotations

from typing import Any

import pytest

from safar.cases import service
from safar.cases.schemas import CaseFilter
from tests.cases.factories import Site, ingest, profile_of, row, run_jobs, timeline
from tests.flows.factories import publish, pump


def _cases(site: Site) -> list[Any]:
    with site.runtime.db.session() as s:
        cases, _ = service.list_cases(s, workspace_id=site.workspace_id, filter=CaseFilter())
        s.expunge_all()
        return cases


def _answer(site: Site, response: str | None, **scores: Any) -> Any:
    props = {"survey_id": "srv_1", "survey_name": "After delivery", **scores}
    if response is not None:
        props["response_id"] = response
    return row(site, type="track", event="survey_answered", userId="reza", properties=props)


@pytest.mark.parametrize(
    ("scores", "opened"),
    [
        ({"nps": 2}, ("NPS 2: After delivery", "high")),
        ({"nps": "3"}, ("NPS 3: After delivery", "high")),
        ({"nps": 6}, ("NPS 6: After delivery", "normal")),
        ({"csat": 2}, ("CSAT 2: After delivery", "normal")),
        ({"csat": 1, "nps": 9}, ("CSAT 1: After delivery", "normal")),
        ({"nps": 7}, None),  # a passive
        ({"csat": 3}, None),
        ({"csat": 0}, None),  # off the 1-5 scale: not a CSAT
        ({"nps": 4.5}, None),  # not a score
        ({"nps": True}, None),
    ],
)
def test_a_detractor_answer_opens_one_case(
    site: Site, scores: dict[str, Any], opened: tuple[str, str] | None
) -> None:
    ingest(site, row(site, type="identify", userId="reza", traits={"name": "Reza"}))
    step0, step1 = _answer(site, "rsp_1", **scores), _answer(site, "rsp_1", **scores)
    assert ingest(site, step0, step1) == 2  # two steps of one response
    cases = _cases(site)
    if opened is None:
        assert cases == []
        return
    [case] = cases
    assert (case.subject, case.priority, case.origin, case.status) == (
        *opened,
        "rule:survey",
        "new",
    )
    assert case.profile_id == profile_of(site, "reza")
    assert case.source_message_ids == [step0["message_id"]]
    ingest(site, _answer(site, "rsp_1", **scores))  # a later step of the same response
    assert len(_cases(site)) == 1


def test_a_replayed_answer_opens_nothing_more(site: Site) -> None:
    """The writer runs in the identity transaction; an apply replayed after its event insert
    failed sees the rows as new again, and the source key keeps it to one case."""
    answer = _answer(site, None, nps=1)  # imported: no response id, keyed by its messageId
    applier = site.runtime.applier
    for _ in range(2):  # the identity transaction commits, the event insert fails
        with site.runtime.db.session() as s:
            applier.resolver.apply(s, [answer])
            for write in applier.in_transaction:
                write(s, [answer])
    assert ingest(site, answer) == 1 and ingest(site, answer) == 0
    [case] = _cases(site)
    assert case.source_message_ids == [answer["message_id"]]
    run_jobs(site)
    opened = timeline(site, profile_of(site, "reza"))
    assert [(e["event"], e["message_id"]) for e in opened] == [("Case Opened", f"case:{case.id}:1")]
    assert opened[0]["properties"]["score"] == 1


def test_a_case_requested_event_opens_a_case_once(site: Site) -> None:
    props = {"subject": "Call about the refund", "priority": "urgent"}
    asked = row(site, type="track", event="Case Requested", userId="mina", properties=props)
    assert ingest(site, asked) == 1
    assert ingest(site, asked) == 0
    [case] = _cases(site)
    assert (case.subject, case.priority, case.origin) == (
        "Call about the refund",
        "urgent",
        "event",
    )
    site.clock.advance(minutes=1)
    odd = row(site, type="track", event="Case Requested", userId="mina",
              properties={"priority": "sky-high"})  # fmt: skip
    ingest(site, odd)
    newest, _ = _cases(site)
    assert (newest.subject, newest.priority) == ("Case Requested", "normal")


def test_a_journeys_case_step_opens_a_case(site: Site) -> None:
    rt, ws = site.runtime, site.workspace_id
    ingest(site, row(site, type="identify", userId="leila", traits={"first_name": "Leila"}))
    ingest(site, row(site, type="track", event="Ticket Opened", userId="someone-else"))
    flow_id = publish(rt, ws, {
        "name": "Complaint call-back",
        "trigger": {"type": "event", "event": "Ticket Opened"},
        "start": "call",
        "nodes": [{"id": "call", "type": "case", "subject": "Call {{ first_name }} back",
                   "priority": "high"}],
    })  # fmt: skip
    ingest(site, row(site, type="track", event="Ticket Opened", userId="leila"))
    pump(rt)  # the journey asks for the case; the scheduler stores its Case Requested event
    [case] = _cases(site)
    assert (case.subject, case.priority, case.origin) == ("Call Leila back", "high", "flow")
    with rt.db.session() as s:
        [created] = service.case_log(s, workspace_id=ws, case_id=case.id)
        assert created.actor == f"flow:{flow_id}" and created.data["flow_id"] == flow_id
    run_jobs(site)
    names = [e["event"] for e in timeline(site, profile_of(site, "leila"))]
    assert sorted(names) == ["Case Opened", "Case Requested"]  # at the same instant
    pump(rt)
    assert len(_cases(site)) == 1


def test_the_domain_declares_the_task_the_service_queues() -> None:
    from safar.cases import module

    assert module.EMIT_TASK == service.EMIT_TASK
