"""Who is in an audience: conditions evaluated for a whole workspace, or for one profile.

Both paths share the semantics of ``kit.conditions``: traits and consent come from the state
store through identity's facades (the current value of each trait across a profile's
identities, the latest consent decision), event history from the event store (``queries``).
Bulk evaluation builds one set of profile ids per condition and combines them in Python:
``all`` is the intersection, ``any`` the union, a negative condition (not performed, not a
member) the difference from every profile. Profiles are the unmerged ones, so a merged person
is evaluated once, on the surviving profile (identities, traits and the identity map follow
merges). The one-profile path reads only that profile's identities, traits and events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from safar.errors import NotFound, ValidationFailed
from safar.events.store import EventStore, analytics
from safar.identity import service as identity
from safar.identity import snapshot
from safar.identity.search import current_traits_in_order, trait_text_owners, unmerged_among
from safar.kit.conditions import (
    ConsentCondition,
    EventCondition,
    SegmentCondition,
    TraitCondition,
    lookup,
)
from safar.kit.query import dialect_of
from safar.segments.queries import EventHistoryQuery, OneProfile
from safar.segments.schemas import ConditionGroup, Match, SegmentDefinition

#: The definition of a saved segment of the workspace, or None when there is none.
Definitions = Callable[[str], SegmentDefinition | None]


def _us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


def consent_holds(cond: ConsentCondition, decisions: dict[str, bool]) -> bool:
    """The latest decision for the channel (a channel's own beats 'all') is ``granted``; no
    decision satisfies neither ``granted`` nor its refusal."""
    decision = decisions.get(cond.channel)
    if decision is None and cond.channel != "all":
        decision = decisions.get("all")
    return decision is not None and decision is cond.granted


def trait_keys(key: str) -> list[str]:
    """Stored trait keys a (possibly dotted) condition key reads: itself and its first part."""
    return sorted({key, key.split(".", 1)[0]})


#: A filtered page that has read this many profiles without filling up evaluates in bulk.
STREAM_BUDGET = 50_000


@cache
def _unfolded() -> dict[str, frozenset[str]]:
    """``casefold()`` of a non-ASCII character that changes under it -> those characters
    (built once: what else a text equal to another up to case can be made of)."""
    out: dict[str, set[str]] = {}
    for cp in range(0x80, 0x110000):
        ch = chr(cp)
        if (folded := ch.casefold()) != ch:
            out.setdefault(folded, set()).add(ch)
    return {f: frozenset(chars) for f, chars in out.items()}


def _numeric(text: str) -> bool:
    """Whether conditions compare this text as a number (``kit.conditions``: "5" equals 5)."""
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def literal_text(rule: TraitCondition) -> list[tuple[str, set[str]]] | None:
    """For an equality (``eq``/``in``) on text, each wanted text case-folded, with the
    non-ASCII characters a value equal to it may hold instead of its letters (the Kelvin sign
    folds to "k", "ſ" to "s", "ß" to "ss", "É" to "é"): a value equal to the text either
    contains it literally up to ASCII case or holds one of them. None when equality could hold
    otherwise: a number ("5" equals 5) or a nested key."""
    if rule.op not in ("eq", "in") or "." in rule.key:
        return None
    wanted = rule.value if rule.op == "in" else [rule.value]
    out: list[tuple[str, set[str]]] = []
    for value in wanted:
        if not isinstance(value, str) or _numeric(value):
            return None
        text = value.strip().casefold()
        out.append((text, {c for f, chars in _unfolded().items() if f in text for c in chars}))
    return out


def trait_members_in_order(
    session: Session,
    *,
    workspace_id: str,
    rule: TraitCondition,
    want: int | None = None,
    within: set[str] | None = None,
) -> list[str] | None:
    """The first ``want`` (or all) unmerged profiles, in id order, whose current traits satisfy
    ``rule`` (and that are in ``within``): what ``sorted(Evaluator.members(...))`` begins with,
    without evaluating the whole audience. An equality on a text the trigram index finds in
    few rows tests only the profiles that ever had it; otherwise profiles are read in id order
    until the page is full. None when that read ``STREAM_BUDGET`` profiles without filling
    the page (a rare match: the bulk evaluation is then cheaper)."""
    texts = literal_text(rule)
    owners: set[str] | None = set() if texts else None
    for text, chars in texts or []:
        found = trait_text_owners(
            session, workspace_id=workspace_id, key=rule.key, text=text, chars=chars
        )
        if found is None or owners is None:
            owners = None
            continue
        owners |= found
    if owners is not None:
        if within is not None:
            owners &= within
        held = trait_holds_for(
            session, workspace_id=workspace_id, rule=rule, profile_ids=sorted(owners)
        )
        live = unmerged_among(session, workspace_id=workspace_id, ids=held)
        return sorted(live)[:want]
    out: list[str] = []
    keys = trait_keys(rule.key)
    rows = current_traits_in_order(session, workspace_id=workspace_id, keys=keys)
    for n, (pid, values) in enumerate(rows):
        if (within is None or pid in within) and rule.test(lookup(values, rule.key)):
            out.append(pid)
            if want is not None and len(out) >= want:
                break
        if want is not None and n >= STREAM_BUDGET:
            return None
    return out


def trait_holds_for(
    session: Session, *, workspace_id: str, rule: TraitCondition, profile_ids: list[str]
) -> set[str]:
    """Those of these (unmerged) profiles whose current traits satisfy ``rule``."""
    values = identity.workspace_traits(
        session, workspace_id=workspace_id, keys=trait_keys(rule.key), profile_ids=profile_ids
    )
    return {p for p in profile_ids if rule.test(lookup(values.get(p, {}), rule.key))}


class Evaluator:
    """Evaluates rules in one workspace at instant ``now`` (the end of every event window)."""

    def __init__(
        self,
        session: Session,
        store: EventStore,
        *,
        workspace_id: str,
        now: datetime,
        definitions: Definitions,
    ) -> None:
        self.session = session
        self.store = store
        self.workspace_id = workspace_id
        self.now = now
        self.definitions = definitions
        self._everyone: set[str] | None = None
        self._map_fresh = False
        self._stack: list[str] = []

    # -- shared -------------------------------------------------------------------------------
    def definition(self, segment_id: str) -> SegmentDefinition:
        if segment_id in self._stack:
            raise ValidationFailed(
                f"segment_id: {segment_id} refers back to itself", field="segment_id"
            )
        definition = self.definitions(segment_id)
        if definition is None:
            raise ValidationFailed(f"segment_id: unknown segment {segment_id}", field="segment_id")
        return definition

    def history(self, cond: EventCondition, profile: OneProfile | None) -> dict[str, int]:
        since = self.now - timedelta(days=cond.within_days) if cond.within_days else None
        query = EventHistoryQuery(
            workspace_id=self.workspace_id,
            event=cond.event,
            until_us=_us(self.now),
            since_us=_us(since) if since is not None else None,
            where=tuple(cond.where),
            profile=profile,
            db=str(getattr(self.store, "db", "safar")),
        )
        names, rows = analytics.rows(self.store, query.render(dialect_of(self.store)))
        return query.shape(names, rows)

    # -- bulk ---------------------------------------------------------------------------------
    @property
    def everyone(self) -> set[str]:
        if self._everyone is None:
            self._everyone = identity.unmerged_profile_ids(
                self.session, workspace_id=self.workspace_id
            )
        return self._everyone

    def members(self, definition: SegmentDefinition) -> set[str]:
        if definition.profiles is None:
            return self._combine(definition.match, definition.conditions)
        listed = self.listed(definition.profiles)
        if not definition.conditions:
            return listed
        return listed & self._combine(definition.match, definition.conditions)

    def listed(self, profiles: Sequence[str]) -> set[str]:
        """A fixed list's profiles as they are now: a profile merged since is its survivor,
        an erased one is gone."""
        out = {p for p in profiles if p in self.everyone}
        for p in profiles:
            if p not in self.everyone:
                try:
                    out.add(identity.resolve_profile_id(
                        self.session, workspace_id=self.workspace_id, profile_id=p))  # fmt: skip
                except NotFound:
                    continue
        return out

    def saved_members(self, segment_id: str, definition: SegmentDefinition) -> set[str]:
        """Members of a saved segment (its id guards against a reference back to it)."""
        with self.inside(segment_id):
            return self.members(definition)

    @contextmanager
    def inside(self, segment_id: str) -> Iterator[None]:
        """While a segment is being evaluated (a reference back to it is a cycle)."""
        self._stack.append(segment_id)
        try:
            yield
        finally:
            self._stack.pop()

    def _combine(self, match: Match, rules: Sequence[Any]) -> set[str]:
        if not rules:
            return set(self.everyone) if match == "all" else set()
        sets = (self._set(rule) for rule in rules)
        if match == "all":
            out = next(sets)
            for s in sets:
                if not out:
                    break
                out &= s
            return out
        return set().union(*sets)

    def _set(self, rule: Any) -> set[str]:
        if isinstance(rule, TraitCondition):
            values = identity.workspace_traits(
                self.session, workspace_id=self.workspace_id, keys=trait_keys(rule.key)
            )
            return {p for p in self.everyone if rule.test(lookup(values.get(p, {}), rule.key))}
        if isinstance(rule, ConsentCondition):
            decisions = identity.workspace_consent(
                self.session, workspace_id=self.workspace_id, purpose=rule.purpose
            )
            return {
                p for p, d in decisions.items() if p in self.everyone and consent_holds(rule, d)
            }
        if isinstance(rule, EventCondition):
            if not self._map_fresh:
                snapshot.refresh_identity_map(
                    self.session, self.store, workspace_id=self.workspace_id
                )
                self._map_fresh = True
            counts = self.history(rule, None)
            did = {p for p, n in counts.items() if n >= rule.min_count and p in self.everyone}
            return did if rule.performed else self.everyone - did
        if isinstance(rule, SegmentCondition):
            inside = self.saved_members(rule.segment_id, self.definition(rule.segment_id))
            return inside if rule.member else self.everyone - inside
        if isinstance(rule, ConditionGroup):
            return self._combine(rule.match, rule.conditions)
        raise TypeError(f"not a segment rule: {rule!r}")

    # -- one profile --------------------------------------------------------------------------
    def profile_matches(self, profile_id: str, rules: Sequence[Any], match: Match) -> bool:
        pid = identity.resolve_profile_id(
            self.session, workspace_id=self.workspace_id, profile_id=profile_id
        )
        return _One(self, pid).combine(match, rules)


class _One:
    """One profile's facts, read once each and only when a rule needs them."""

    def __init__(self, ev: Evaluator, profile_id: str) -> None:
        self.ev = ev
        self.profile_id = profile_id
        self._ids: list[int] | None = None
        self._traits: dict[str, Any] | None = None
        self._consent: dict[str, dict[str, bool]] | None = None
        self._profile: OneProfile | None = None

    @property
    def identity_ids(self) -> list[int]:
        if self._ids is None:
            self._ids = [i.id for i in identity.identities_of(self.ev.session, self.profile_id)]
        return self._ids

    def in_definition(self, definition: SegmentDefinition) -> bool:
        if definition.profiles is not None:
            if self.profile_id not in self.ev.listed(definition.profiles):
                return False
            if not definition.conditions:
                return True
        return self.combine(definition.match, definition.conditions)

    def combine(self, match: Match, rules: Sequence[Any]) -> bool:
        if match == "all":
            return all(self.holds(rule) for rule in rules)
        return any(self.holds(rule) for rule in rules)

    def holds(self, rule: Any) -> bool:
        if isinstance(rule, TraitCondition):
            if self._traits is None:
                self._traits = identity.current_traits(self.ev.session, self.identity_ids)
            return rule.test(lookup(self._traits, rule.key))
        if isinstance(rule, ConsentCondition):
            if self._consent is None:
                self._consent = {}
                for c in identity.current_consent(self.ev.session, self.identity_ids):
                    self._consent.setdefault(c.purpose, {})[c.channel] = c.granted
            return consent_holds(rule, self._consent.get(rule.purpose, {}))
        if isinstance(rule, EventCondition):
            if self._profile is None:
                uids, aids = identity.event_identifiers(self.ev.session, self.profile_id)
                self._profile = OneProfile(self.profile_id, tuple(uids), tuple(aids))
            n = 0
            if self._profile.user_ids or self._profile.anonymous_ids:
                n = self.ev.history(rule, self._profile).get(self.profile_id, 0)
            return (n >= rule.min_count) is rule.performed
        if isinstance(rule, SegmentCondition):
            definition = self.ev.definition(rule.segment_id)
            with self.ev.inside(rule.segment_id):
                inside = self.in_definition(definition)
            return inside is rule.member
        if isinstance(rule, ConditionGroup):
            return self.combine(rule.match, rule.conditions)
        raise TypeError(f"not a segment rule: {rule!r}")
