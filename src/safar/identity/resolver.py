"""Write side of the identity graph: fold each incoming message into profiles.

For every message, identifiers are taken strongest first (see ``identifiers.PRIORITY``). The
profile of the strongest known identifier is the target; unknown identifiers join it, and other
known profiles are merged into it, unless a merge rule forbids it (an identifier type whose
limit would be exceeded, or a pair an earlier unmerge separated). Every merge is recorded with
its cause and both sides' identities, so it can be undone.

Replays are safe: applying the same message twice changes nothing (the WAL consumer is
at-least-once).

The bulk reads before a batch live in ``lookup``; the rows for traits, consent and groups
that a message states are built in ``facts``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from safar.db import Base, utcnow
from safar.events.rows import EventRow
from safar.identity import repository
from safar.identity.facts import consent_rows, message_traits, record_group, trait_rows
from safar.identity.facts import ts as _ts
from safar.identity.identifiers import extract
from safar.identity.lookup import CHUNK, Ref, already_applied, prefetch
from safar.identity.models import (
    ConsentRecord,
    Identity,
    IdentityLink,
    Merge,
    MergeConflict,
    Profile,
    TraitValue,
    new_identity_id,
)

__all__ = ["ACTIVITY_TYPES", "IdentityResolver", "Ref", "new_profile_id"]

#: Message types that only report activity: if their identifiers are known and already on one
#: profile, the graph has nothing to learn from them.
ACTIVITY_TYPES = {"track", "page", "screen"}
_CAUSES = {"alias": "alias", "identify": "identify"}


def _table(model: type[Base]) -> Table:
    """The Core table of a model: bulk inserts skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


def new_profile_id() -> str:
    return "prf_" + uuid.uuid4().hex[:24]


class IdentityResolver:
    """Applies batches of normalised messages to the graph inside the caller's session."""

    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = dict(limits)

    # -- batch entry -------------------------------------------------------------------------
    def apply(self, session: Session, rows: list[EventRow]) -> None:
        by_ws: dict[str, list[EventRow]] = defaultdict(list)
        for row in rows:
            by_ws[row["workspace_id"]].append(row)
        for ws, ws_rows in by_ws.items():
            _Batch(self, session, ws, ws_rows).run()


class _Batch:
    """One workspace's slice of a batch.

    Reads happen up front (one query per few hundred identifiers); new rows are buffered and
    written with a handful of multi-row INSERTs at the end. Merges update the database at once
    so later queries in the batch see them.
    """

    def __init__(self, resolver: IdentityResolver, session: Session, ws: str, rows: list[EventRow]):
        self.r = resolver
        self.s = session
        # Bulk reads and inserts go through Core on the session's connection (same
        # transaction): the ORM's per-row bookkeeping cost more than the statements themselves.
        self.conn = session.connection()
        self.ws = ws
        self.rows = rows
        self.keys_per_row = [extract(row) for row in rows]
        self.refs: dict[tuple[str, str], Ref] = {}
        self.limited: dict[str, dict[str, set[str]]] = {}
        self.separated: set[frozenset[str]] | None = None
        self.new_profiles: dict[str, dict[str, Any]] = {}
        self.new_refs: list[tuple[Ref, datetime, str]] = []
        self.created: set[int] = set()
        self.linked: set[tuple[int, int]] = set()
        self.pending: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        self.trait_cache: dict[int, dict[str, Any]] = {}
        self.touched_profiles: dict[str, datetime] = {}

    def run(self) -> None:
        self.refs.update(prefetch(self.conn, self.ws, self.keys_per_row))
        seen_messages = already_applied(self.conn, self.ws, self.rows)
        for row, keys in zip(self.rows, self.keys_per_row, strict=True):
            if not keys or row["message_id"] in seen_messages:
                continue
            if self._nothing_to_learn(row, keys):
                continue
            target, anchor = self._link(row, keys)
            self._record_traits(row, anchor)
            self._record_consent(row, anchor)
            if row["type"] == "group":
                self._record_group(row, anchor)
            if target is not None:
                when = _ts(row["received_at"])
                if self.touched_profiles.get(target, when) <= when:
                    self.touched_profiles[target] = when
        self._write()

    # -- loading -----------------------------------------------------------------------------
    def _nothing_to_learn(self, row: EventRow, keys: list[tuple[str, str]]) -> bool:
        if row["type"] not in ACTIVITY_TYPES:
            return False
        ctx = row.get("context") or {}
        if ctx.get("traits") or ctx.get("consent"):
            return False
        profiles = set()
        for key in keys:
            ref = self.refs.get(key)
            if ref is None:
                return False
            profiles.add(ref.profile_id)
        return len(profiles) == 1

    def _limited_values(self, profile_id: str) -> dict[str, set[str]]:
        """Values of the limited identifier types a profile holds (cached for the batch)."""
        if profile_id not in self.limited:
            held: dict[str, set[str]] = defaultdict(set)
            if self.r.limits and profile_id not in self.new_profiles:
                for t, v in repository.limited_values(self.s, profile_id, list(self.r.limits)):
                    held[t].add(v)
            self.limited[profile_id] = held
        return self.limited[profile_id]

    def _fits(self, target: str, adding: dict[str, set[str]]) -> str | None:
        """None when the union stays within the limits, else the reason it does not."""
        held = self._limited_values(target)
        for t, limit in self.r.limits.items():
            union = held.get(t, set()) | adding.get(t, set())
            if len(union) > limit:
                return f"a profile may hold at most {limit} {t} value(s); union would have {len(union)}"
        return None

    def _is_separated(self, a: str, b: str) -> bool:
        if self.separated is None:
            self.separated = repository.separated_pairs(self.s, self.ws)
        return frozenset((a, b)) in self.separated

    # -- graph changes -----------------------------------------------------------------------
    def _link(self, row: EventRow, keys: list[tuple[str, str]]) -> tuple[str | None, Ref | None]:
        """Attach, create and merge so the message's identifiers share one profile if allowed.

        Returns the target profile and the identity the message is attributed to.
        """
        when = _ts(row["timestamp"])
        if row["type"] == "alias" and row.get("previous_id"):
            self._alias_previous(row, keys)
        target: str | None = next((self.refs[k].profile_id for k in keys if k in self.refs), None)
        cause = _CAUSES.get(row["type"], "shared_identifier")
        touched: list[Ref] = []
        #: Whether an identifier stronger than the current key already ties the message to target.
        claimed = False
        for key in keys:
            ref = self.refs.get(key)
            if ref is None:
                if target is None:
                    target = self._create_profile(when)
                elif key[0] in self.r.limits and self._fits(target, {key[0]: {key[1]}}):
                    other, created = self._split_off(key, target, row, when)
                    if not claimed:
                        # Only a weaker, shared identifier (a family email) pointed at the old
                        # profile: the message is about the new person, so its other
                        # identifiers (their own device) follow them, not the email's owner.
                        target, claimed = other, True
                        touched.append(created)
                    continue
                touched.append(self._create_identity(key, target, row))
                claimed = True
            elif target is not None and ref.profile_id == target:
                claimed = True
            elif target is not None and self._join(target, ref, cause, row, keys, touched):
                touched.append(ref)
                claimed = True
        # Record the edges that put identities together: what an unmerge later cuts.
        anchor = self._anchor(keys, target, touched)
        if anchor is not None:
            for ref in touched:
                if ref is not anchor:
                    self._add_link(anchor, ref, row)
        return target, self._attribution(keys) or anchor

    def _split_off(
        self, key: tuple[str, str], target: str, row: EventRow, when: datetime
    ) -> tuple[str, Ref]:
        """A second userId on this profile is a different person: give it its own profile."""
        other = self._create_profile(when)
        created = self._create_identity(key, other, row)
        self._conflict(target, other, f"{key[0]} {key[1]!r} conflicts with the profile", row)
        return other, created

    def _join(
        self,
        target: str,
        ref: Ref,
        cause: str,
        row: EventRow,
        keys: list[tuple[str, str]],
        touched: list[Ref],
    ) -> bool:
        """Merge the profile of ``ref`` into ``target`` unless a rule forbids it (then False)."""
        other_profile = ref.profile_id
        if self._is_separated(target, other_profile):
            return False
        reason = (
            None if cause == "alias" else self._fits(target, self._limited_values(other_profile))
        )
        if reason:
            self._conflict(target, other_profile, reason, row)
            return False
        self._merge(target, other_profile, cause, row, self._anchor(keys, target, touched), ref)
        return True

    def _anchor(
        self, keys: list[tuple[str, str]], target: str | None, touched: list[Ref]
    ) -> Ref | None:
        """The strongest identity of the message already on the target before this message."""
        fallback = None
        for key in keys:
            ref = self.refs.get(key)
            if ref is None or ref.profile_id != target:
                continue
            if all(ref is not t for t in touched):
                return ref
            fallback = fallback or ref
        return fallback

    def _attribution(self, keys: list[tuple[str, str]]) -> Ref | None:
        for key in keys:
            if key[0] in ("user_id", "anonymous_id"):
                return self.refs.get(key)
        return None

    def _alias_previous(self, row: Mapping[str, Any], keys: list[tuple[str, str]]) -> None:
        """``previousId`` names an earlier id: a known userId or anonymousId, else anonymous."""
        prev = row["previous_id"]
        for t in ("user_id", "anonymous_id"):
            if (t, prev) in self.refs:
                if (t, prev) not in keys:
                    keys.append((t, prev))
                return
        found = repository.event_identity(self.s, self.ws, prev)
        if found is not None:
            ref = Ref(found[0], found[1], found[2], found[3])
            self.refs[(ref.type, ref.value)] = ref
            keys.append((ref.type, ref.value))
        else:
            keys.append(("anonymous_id", prev))

    def _create_profile(self, when: datetime) -> str:
        pid = new_profile_id()
        self.new_profiles[pid] = {
            "id": pid,
            "workspace_id": self.ws,
            "created_at": when,
            "updated_at": when,
            "merged_into": None,
        }
        self.limited[pid] = defaultdict(set)
        return pid

    def _create_identity(self, key: tuple[str, str], profile_id: str, row: EventRow) -> Ref:
        ref = Ref(new_identity_id(), key[0], key[1], profile_id)
        self.new_refs.append((ref, _ts(row["timestamp"]), (row.get("source") or "")[:80]))
        self.created.add(ref.id)
        self.refs[key] = ref
        if key[0] in self.r.limits:
            self._limited_values(profile_id)[key[0]].add(key[1])
        return ref

    def _add_link(self, a: Ref, b: Ref, row: EventRow) -> None:
        lo, hi = sorted((a.id, b.id))
        if lo == hi or (lo, hi) in self.linked:
            return
        self.linked.add((lo, hi))
        # A link to an identity created in this batch cannot exist yet: skip the lookup.
        fresh = lo in self.created or hi in self.created
        if not fresh and repository.link_exists(self.s, self.ws, lo, hi):
            return
        self.pending[IdentityLink].append(
            {
                "workspace_id": self.ws,
                "a_id": lo,
                "b_id": hi,
                "message_id": row["message_id"],
                "created_at": _ts(row["timestamp"]),
                "blocked": False,
            }
        )

    def _conflict(self, a: str, b: str, reason: str, row: EventRow) -> None:
        self.pending[MergeConflict].append(
            {
                "workspace_id": self.ws,
                "profile_a": a,
                "profile_b": b,
                "reason": reason[:300],
                "message_id": row["message_id"],
                "created_at": utcnow(),
            }
        )

    def _flush_profiles(self) -> None:
        if self.new_profiles:
            self.conn.execute(_table(Profile).insert(), list(self.new_profiles.values()))
            self.new_profiles.clear()

    def _merge(
        self, into: str, frm: str, cause: str, row: EventRow, anchor: Ref | None, other: Ref
    ) -> None:
        # Merges write through at once; the profiles they touch must exist in the database.
        self._flush_profiles()
        staying = repository.identity_ids(self.s, into)
        staying.update(r.id for r, _, _ in self.new_refs if r.profile_id == into)
        moving = repository.identity_ids(self.s, frm)
        # The loser's identities move; it, and profiles merged into it earlier, now redirect
        # to the survivor.
        repository.merge_profiles(self.s, workspace_id=self.ws, into=into, frm=frm)
        for ref, _, _ in self.new_refs:
            if ref.profile_id == frm:
                moving.add(ref.id)
        for ref in self.refs.values():
            if ref.profile_id == frm:
                ref.profile_id = into
        evidence = [f"{other.type}:{other.value}"]
        if anchor is not None:
            evidence.insert(0, f"{anchor.type}:{anchor.value}")
        self.pending[Merge].append(
            {
                "id": "mrg_" + uuid.uuid4().hex[:24],
                "workspace_id": self.ws,
                "into_profile_id": into,
                "from_profile_id": frm,
                "cause": cause,
                "message_id": row["message_id"],
                "evidence": evidence,
                "into_identity_ids": sorted(staying),
                "from_identity_ids": sorted(moving),
                "created_at": _ts(row["timestamp"]),
                "undone_at": None,
                "undone_by": None,
            }
        )
        held = self._limited_values(into)
        for t, values in self._limited_values(frm).items():
            held[t].update(values)
        self.limited.pop(frm, None)
        self.touched_profiles.pop(frm, None)

    def _write(self) -> None:
        """Write the buffered rows: parents before children."""
        self._flush_profiles()
        if self.new_refs:
            self.conn.execute(
                _table(Identity).insert(),
                [
                    {
                        "id": r.id,
                        "workspace_id": self.ws,
                        "type": r.type,
                        "value": r.value,
                        "profile_id": r.profile_id,
                        "first_seen": when,
                        "source": source,
                    }
                    for r, when, source in self.new_refs
                ],
            )
        for model in (IdentityLink, Merge, MergeConflict, TraitValue, ConsentRecord):
            rows = self.pending.get(model)
            if rows:
                self.conn.execute(_table(model).insert(), rows)
        by_time: dict[datetime, list[str]] = defaultdict(list)
        for pid, when in self.touched_profiles.items():
            by_time[when].append(pid)
        for when, pids in by_time.items():
            for i in range(0, len(pids), CHUNK):
                repository.touch_profiles(self.s, pids[i : i + CHUNK], when)

    # -- facts attached to identities -------------------------------------------------------------
    def _record_traits(self, row: EventRow, anchor: Ref | None) -> None:
        if anchor is None:
            return
        traits = message_traits(row)
        if not traits:
            return
        self.pending[TraitValue].extend(
            trait_rows(
                row,
                workspace_id=self.ws,
                identity_id=anchor.id,
                traits=traits,
                current=self._current_traits(anchor.id),
            )
        )

    def _current_traits(self, identity_id: int) -> dict[str, Any]:
        """Latest known traits of an identity, kept current as the batch records more."""
        if identity_id not in self.trait_cache:
            current: dict[str, Any] = {}
            if identity_id not in self.created:
                current = repository.latest_traits(self.s, identity_id)
            self.trait_cache[identity_id] = current
        return self.trait_cache[identity_id]

    def _record_consent(self, row: EventRow, anchor: Ref | None) -> None:
        if anchor is None:
            return
        self.pending[ConsentRecord].extend(
            consent_rows(row, workspace_id=self.ws, identity_id=anchor.id)
        )

    def _record_group(self, row: EventRow, anchor: Ref | None) -> None:
        record_group(
            self.s,
            workspace_id=self.ws,
            row=row,
            identity_id=anchor.id if anchor is not None else None,
        )
