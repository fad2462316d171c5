"""A journey as data: the versioned definition a flow publishes and its instances run.

A definition is a trigger (who enters, when), a graph of nodes (delays, waits, branches,
splits, actions, exits) whose edges are the ``next`` fields of each node, a goal that ends the
journey and counts as conversion, a holdout share and the send policy (consent purpose,
marketing or transactional, quiet hours). It is plain JSON (or YAML) validated by pydantic, so
the dashboard builder, the API, the CLI and the shipped templates all produce the same thing.

``check`` refuses what cannot run (a dangling edge, an unreachable node, a cycle with no wait
in it, a split that does not add up to 100) with the node and field named; checks that need
the workspace (known events and traits, templates that compile) are in ``validate.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from safar.errors import ValidationFailed
from safar.kit.conditions import AudienceCondition, PropertyCondition

NODE_ID = r"^[a-z][a-z0-9_]{0,39}$"
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_WAIT_S = 400 * 86400
Calendar = Literal["jalali", "gregorian", "profile"]
MessageChannel = Literal["email", "sms", "push", "telegram", "app"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(value: str) -> str:
    if not HHMM.match(value):
        raise ValueError("a local time as HH:MM (00:00 to 23:59)")
    return value


# -- triggers -------------------------------------------------------------------------------------
class EventTrigger(_Strict):
    """Enter when the event arrives and its properties match."""

    type: Literal["event"] = "event"
    event: str = Field(min_length=1, max_length=200)
    where: list[PropertyCondition] = Field(default_factory=list, max_length=20)


class AbsenceTrigger(_Strict):
    """Enter when ``event`` is *not* followed by ``missing`` within the window (a cart with no
    purchase within an hour): the instance waits first and enters only on the timeout."""

    type: Literal["absence"] = "absence"
    event: str = Field(min_length=1, max_length=200)
    where: list[PropertyCondition] = Field(default_factory=list, max_length=20)
    missing: str = Field(min_length=1, max_length=200)
    within_s: int = Field(ge=60, le=90 * 86400)


class SegmentTrigger(_Strict):
    """Enter on entering (or leaving) a saved segment."""

    type: Literal["segment"] = "segment"
    segment_id: str = Field(min_length=1, max_length=40)
    on: Literal["enter", "leave"] = "enter"


class DateTrigger(_Strict):
    """Yearly on a date trait (birthday, anniversary, renewal) +/- days, at a local time.

    ``calendar`` says which calendar the date recurs in: a Jalali birthday falls on a different
    Gregorian day every year; ``profile`` takes the profile's ``calendar`` trait, else Jalali for
    Persian-speaking profiles."""

    type: Literal["date"] = "date"
    trait: str = Field(min_length=1, max_length=200)
    offset_days: int = Field(default=0, ge=-60, le=60)
    at: str = "10:00"
    calendar: Calendar = "profile"

    _at = field_validator("at")(_hhmm)


class SurveyTrigger(_Strict):
    """Enter on a survey answer: a detractor, a low CSAT, or any answer with conditions."""

    type: Literal["survey"] = "survey"
    survey_id: str | None = Field(default=None, max_length=40)
    result: Literal["detractor", "passive", "promoter", "low_csat", "any"] = "detractor"
    where: list[PropertyCondition] = Field(default_factory=list, max_length=20)


class TextTrigger(_Strict):
    """Enter when text analytics reads a customer's text as negative (or a category)."""

    type: Literal["text"] = "text"
    sentiment: Literal["negative", "positive", "neutral", "any"] = "negative"
    category: str | None = Field(default=None, max_length=80)


class ScheduleTrigger(_Strict):
    """Enter a segment's members (or everyone) on a schedule in the workspace's time zone:
    a cron expression, or a Jalali day (the first of each month, Nowruz = month 1 day 1)."""

    type: Literal["schedule"] = "schedule"
    cron: str | None = Field(default=None, max_length=100)
    jalali_day: int | None = Field(default=None, ge=1, le=31)
    jalali_month: int | None = Field(default=None, ge=1, le=12)
    at: str = "09:00"
    segment_id: str | None = Field(default=None, max_length=40)

    _at = field_validator("at")(_hhmm)

    @model_validator(mode="after")
    def _one_rule(self) -> ScheduleTrigger:
        if (self.cron is None) == (self.jalali_day is None):
            raise ValueError("trigger: give either cron or jalali_day")
        if self.cron is not None:
            from croniter import croniter

            if not croniter.is_valid(self.cron):
                raise ValueError(f"cron: {self.cron[:100]!r} is not a cron expression")
        if self.jalali_month is not None and self.jalali_day is None:
            raise ValueError("jalali_day: required with jalali_month")
        return self


class ApiTrigger(_Strict):
    """Enter when the API is called (``POST /api/journeys/flows/{id}/enter``)."""

    type: Literal["api"] = "api"


Trigger = Annotated[
    EventTrigger
    | AbsenceTrigger
    | SegmentTrigger
    | DateTrigger
    | SurveyTrigger
    | TextTrigger
    | ScheduleTrigger
    | ApiTrigger,
    Field(discriminator="type"),
]


# -- nodes ----------------------------------------------------------------------------------------
class _Node(_Strict):
    id: str = Field(pattern=NODE_ID)
    label: str = Field(default="", max_length=120)
    #: Where the builder drew the node; meaningless to the runtime.
    x: float | None = None
    y: float | None = None

    def edges(self) -> Iterator[tuple[str, str]]:
        """(field, target) for every outgoing edge."""
        next_ = getattr(self, "next", None)
        if next_:
            yield "next", next_


class Delay(_Node):
    """Wait a duration, until a local time of day, or until a trait date +/- days."""

    type: Literal["delay"] = "delay"
    mode: Literal["duration", "time_of_day", "trait_date"] = "duration"
    seconds: int | None = Field(default=None, ge=1, le=MAX_WAIT_S)
    at: str | None = None
    trait: str | None = Field(default=None, max_length=200)
    offset_days: int = Field(default=0, ge=-60, le=60)
    calendar: Calendar = "profile"
    next: str | None = None

    @model_validator(mode="after")
    def _mode_fields(self) -> Delay:
        if self.at is not None:
            _hhmm(self.at)
        if self.mode == "duration" and self.seconds is None:
            raise ValueError("seconds: required for a duration delay")
        if self.mode in ("time_of_day", "trait_date") and self.at is None:
            raise ValueError(f"at: required for a {self.mode} delay")
        if self.mode == "trait_date" and not self.trait:
            raise ValueError("trait: required for a trait_date delay")
        return self


class Wait(_Node):
    """Wait for an event until a timeout; the journey goes on by whichever comes first."""

    type: Literal["wait"] = "wait"
    event: str = Field(min_length=1, max_length=200)
    where: list[PropertyCondition] = Field(default_factory=list, max_length=20)
    timeout_s: int = Field(ge=60, le=MAX_WAIT_S)
    on_event: str | None = None
    on_timeout: str | None = None

    def edges(self) -> Iterator[tuple[str, str]]:
        if self.on_event:
            yield "on_event", self.on_event
        if self.on_timeout:
            yield "on_timeout", self.on_timeout


class Rule(_Strict):
    conditions: list[AudienceCondition] = Field(min_length=1, max_length=20)
    match: Literal["all", "any"] = "all"
    next: str | None = None
    label: str = Field(default="", max_length=120)


class Branch(_Node):
    """The first rule whose conditions hold decides; ``otherwise`` when none does."""

    type: Literal["branch"] = "branch"
    rules: list[Rule] = Field(min_length=1, max_length=10)
    otherwise: str | None = None

    def edges(self) -> Iterator[tuple[str, str]]:
        for i, rule in enumerate(self.rules):
            if rule.next:
                yield f"rules.{i}.next", rule.next
        if self.otherwise:
            yield "otherwise", self.otherwise


class Path(_Strict):
    percent: float = Field(gt=0, le=100)
    next: str | None = None
    label: str = Field(default="", max_length=120)


class Split(_Node):
    """A random split, deterministic per profile (the same person always takes one path)."""

    type: Literal["split"] = "split"
    paths: list[Path] = Field(min_length=2, max_length=10)

    def edges(self) -> Iterator[tuple[str, str]]:
        for i, path in enumerate(self.paths):
            if path.next:
                yield f"paths.{i}.next", path.next


class Text(_Strict):
    """One language's message; the texts are sandboxed Jinja2 templates."""

    subject: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=4000)


class Send(_Node):
    """Send a message on a channel, in the profile's language (fa or en, with a fallback)."""

    type: Literal["send"] = "send"
    channel: MessageChannel
    texts: dict[Literal["fa", "en"], Text] = Field(min_length=1)
    next: str | None = None


#: Header prefixes Safar signs and describes a webhook's request with: a step may not set them.
SAFAR_HEADERS = ("content-", "safar-", "host")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")


class Webhook(_Node):
    """Send the profile and the journey's data to a URL (``method``: POST, PUT or PATCH),
    signed with HMAC. ``body`` is a JSON template (rendered, then parsed: a JSON object) or an
    object whose text values are templates; ``headers`` are extra request headers, their values
    templates too."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://", max_length=2000)
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    body: dict[str, Any] | Annotated[str, Field(max_length=8000)] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    next: str | None = None

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name) or name.lower().startswith(SAFAR_HEADERS):
                raise ValueError(f"{name[:100]!r} is not a header name a step may set")
            if len(text) > 2000 or "\n" in text or "\r" in text:
                raise ValueError(f"{name!r}: one line of at most 2000 characters")
        return value


class SendSurvey(_Node):
    type: Literal["survey"] = "survey"
    survey_id: str = Field(min_length=1, max_length=40)
    channel: Literal["email", "sms", "app"] = "email"
    next: str | None = None


class SetTrait(_Node):
    """Set a trait on the profile (the value may be a template), or add/remove a tag."""

    type: Literal["set_trait"] = "set_trait"
    key: str = Field(min_length=1, max_length=200)
    value: Any = None
    tag: Literal["add", "remove"] | None = None
    next: str | None = None


class CreateCase(_Node):
    """Open a case for the profile (the cases domain of the close-the-loop issue fills it)."""

    type: Literal["case"] = "case"
    subject: str = Field(min_length=1, max_length=300)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    next: str | None = None


class Exit(_Node):
    type: Literal["exit"] = "exit"


Node = Annotated[
    Delay | Wait | Branch | Split | Send | Webhook | SendSurvey | SetTrait | CreateCase | Exit,
    Field(discriminator="type"),
]
#: Nodes that hold the instance for a while; a cycle must pass through one of them.
HOLDING = ("delay", "wait")
#: Nodes that contact the profile (the holdout records "would have sent" instead).
CONTACTING = ("send", "webhook", "survey")


# -- the journey ----------------------------------------------------------------------------------
class Goal(_Strict):
    """The event that ends the journey as a conversion (a purchase ends the cart journey)."""

    event: str = Field(min_length=1, max_length=200)
    where: list[PropertyCondition] = Field(default_factory=list, max_length=20)
    #: Conversions count only this long after entry (for treatment and holdout alike).
    within_days: float = Field(default=30, gt=0, le=365)


class Entry(_Strict):
    """Who may enter again: never (``once``), after a cooldown, or whenever not already in."""

    reentry: Literal["once", "cooldown", "always"] = "once"
    cooldown_days: float = Field(default=0, ge=0, le=3650)

    @model_validator(mode="after")
    def _cooldown(self) -> Entry:
        if self.reentry == "cooldown" and self.cooldown_days <= 0:
            raise ValueError("cooldown_days: required (> 0) for reentry 'cooldown'")
        return self


class Policy(_Strict):
    """How the journey's messages are sent (checked at send time, in the customer's zone)."""

    topic: Literal["marketing", "transactional"] = "marketing"
    consent_purpose: str | None = Field(default="marketing", max_length=80)
    require_consent: bool = False
    quiet_start: int | None = Field(default=None, ge=0, le=23)
    quiet_end: int | None = Field(default=None, ge=0, le=23)

    @model_validator(mode="after")
    def _quiet_pair(self) -> Policy:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_end: quiet hours need both a start and an end")
        return self


class FlowDefinition(_Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    trigger: Trigger
    start: str = Field(pattern=NODE_ID)
    nodes: list[Node] = Field(min_length=1, max_length=200)
    goal: Goal | None = None
    entry: Entry = Field(default_factory=Entry)
    policy: Policy = Field(default_factory=Policy)
    #: Share of entrants kept as a control group that gets nothing (for uplift).
    holdout_percent: float = Field(default=0, ge=0, le=50)

    def node(self, node_id: str) -> Any:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def by_id(self) -> dict[str, Any]:
        return {n.id: n for n in self.nodes}

    def listened(self) -> set[str]:
        """Every event an instance of this definition may wait for (waits, goal, absence)."""
        names = {n.event for n in self.nodes if n.type == "wait"}
        if self.goal is not None:
            names.add(self.goal.event)
        if self.trigger.type == "absence":
            names.add(self.trigger.missing)
        return names


def _fail(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", field=field)


def check(flow: FlowDefinition) -> None:
    """Refuse a graph that cannot run; the error names the node and the field."""
    nodes: dict[str, Any] = {}
    for node in flow.nodes:
        if node.id in nodes:
            raise _fail(f"the node id {node.id!r} is used twice", f"nodes.{node.id}.id")
        nodes[node.id] = node
    if flow.start not in nodes:
        raise _fail(f"no node {flow.start!r}", "start")
    for node in flow.nodes:
        for field, target in node.edges():
            if target not in nodes:
                raise _fail(f"no node {target!r}", f"nodes.{node.id}.{field}")
        if node.type == "split":
            total = sum(p.percent for p in node.paths)
            if abs(total - 100) > 1e-6:
                raise _fail(f"the paths add up to {total:g}%, not 100%", f"nodes.{node.id}.paths")
    reachable = _reachable(flow.start, nodes)
    for node in flow.nodes:
        if node.id not in reachable:
            raise _fail("no edge leads to this node", f"nodes.{node.id}")
    cycle = _instant_cycle(flow.start, nodes)
    if cycle:
        path = " -> ".join(cycle)
        raise _fail(f"a loop with no delay or wait ({path})", f"nodes.{cycle[0]}.next")


def _reachable(start: str, nodes: dict[str, Any]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for _, target in nodes[todo.pop()].edges():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _instant_cycle(start: str, nodes: dict[str, Any]) -> list[str] | None:
    """A cycle through nodes that all run at once (no delay or wait), or None."""
    instant = {k for k, n in nodes.items() if n.type not in HOLDING}
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node_id: str, stack: list[str]) -> list[str] | None:
        state[node_id] = 1
        stack.append(node_id)
        for _, target in nodes[node_id].edges():
            if target not in instant:
                continue
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state:
                found = visit(target, stack)
                if found:
                    return found
        stack.pop()
        state[node_id] = 2
        return None

    for node_id in sorted(instant):
        if node_id not in state:
            found = visit(node_id, [])
            if found:
                return found
    return None


def parse(data: dict[str, Any]) -> FlowDefinition:
    """Validate and check a definition; pydantic's errors become one 400 naming the field."""
    from pydantic import ValidationError

    try:
        flow = FlowDefinition.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _location(data, list(err["loc"]))
        raise ValidationFailed(f"{loc}: {err['msg']}", field=loc) from None
    check(flow)
    return flow


def _location(data: Any, loc: list[Any]) -> str:
    """``nodes.<id>.field`` rather than ``nodes.3.send.field``: the node by its id, without the
    union tag pydantic inserts after a discriminated item."""
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = data.get("nodes") if isinstance(data, dict) else None
        item = nodes[loc[1]] if isinstance(nodes, list) and loc[1] < len(nodes) else None
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            loc[1] = item["id"]
        if len(loc) >= 3 and isinstance(item, dict) and loc[2] == item.get("type"):
            del loc[2]
    if len(loc) >= 2 and loc[0] == "trigger" and isinstance(data, dict):
        trigger = data.get("trigger")
        if isinstance(trigger, dict) and loc[1] == trigger.get("type"):
            del loc[1]
    return ".".join(str(p) for p in loc) or "definition"
