"""Facts a message states about the person behind it: traits, consent and group membership.

The resolver decides which identity a message is attributed to; these functions turn the
message into the rows that record what it says, skipping traits whose value did not change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from safar.events.rows import EventRow
from safar.identity import repository
from safar.identity.identifiers import text_field
from safar.identity.models import Group, GroupMember


def ts(micros: int) -> datetime:
    """A stored event time (microseconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC)


def message_traits(row: EventRow) -> dict[str, Any]:
    """Traits a message sets: ``context.traits``, then an identify's or alias's own traits."""
    traits: dict[str, Any] = {}
    ctx_traits = (row.get("context") or {}).get("traits")
    if isinstance(ctx_traits, dict):
        traits.update(ctx_traits)
    if row["type"] in ("identify", "alias") and row.get("traits"):
        traits.update(row["traits"])
    # Consent has its own table with per-purpose history; it is not a trait.
    traits.pop("consent", None)
    return traits


def trait_rows(
    row: EventRow,
    *,
    workspace_id: str,
    identity_id: int,
    traits: dict[str, Any],
    current: dict[str, Any],
) -> list[dict[str, Any]]:
    """Rows for the traits whose value changed; ``current`` is updated to match."""
    when = ts(row["timestamp"])
    source = row.get("channel") or row.get("source") or ""
    out: list[dict[str, Any]] = []
    for key, value in traits.items():
        key = text_field(key, 100)
        if key in current and current[key] == value:
            continue
        current[key] = value
        out.append(
            {
                "workspace_id": workspace_id,
                "identity_id": identity_id,
                "key": key,
                "value": value,
                "source": f"{row['type']}:{source}"[:80],
                "observed_at": when,
                "message_id": row["message_id"],
            }
        )
    return out


def _consent_items(consent: Any) -> list[tuple[str, str, bool]]:
    """(purpose, channel, granted) of Segment's ``categoryPreferences`` and our ``preferences``."""
    items: list[tuple[str, str, bool]] = []
    if not isinstance(consent, dict):
        return items
    prefs = consent.get("categoryPreferences")
    if isinstance(prefs, dict):
        items += [(str(k), "all", bool(v)) for k, v in prefs.items() if isinstance(v, bool)]
    for pref in consent.get("preferences") or []:
        if isinstance(pref, dict) and pref.get("purpose") and isinstance(pref.get("granted"), bool):
            items.append((str(pref["purpose"]), str(pref.get("channel") or "all"), pref["granted"]))
    return items


def consent_rows(row: EventRow, *, workspace_id: str, identity_id: int) -> list[dict[str, Any]]:
    """One consent record per purpose and channel the message's ``context.consent`` names."""
    return [
        {
            "workspace_id": workspace_id,
            "identity_id": identity_id,
            "purpose": text_field(purpose, 80),
            "channel": text_field(channel, 20).lower(),
            "granted": granted,
            "source": f"{row['type']}:{row.get('channel') or ''}"[:80],
            "observed_at": ts(row["timestamp"]),
            "message_id": row["message_id"],
        }
        for purpose, channel, granted in _consent_items((row.get("context") or {}).get("consent"))
    ]


def record_group(
    session: Session, *, workspace_id: str, row: EventRow, identity_id: int | None
) -> None:
    """Upsert the group a ``group`` call names and, when attributed, its member's role."""
    traits = row.get("traits") or {}
    group_id = row["group_id"]
    if group_id is None:  # validation refuses a group call without a groupId
        return
    group = repository.group_by_key(session, workspace_id, group_id)
    when = ts(row["timestamp"])
    if group is None:
        group = Group(
            workspace_id=workspace_id,
            group_id=group_id,
            type="account",
            traits={},
            created_at=when,
            updated_at=when,
        )
        session.add(group)
    group.traits = {**(group.traits or {}), **traits}
    if traits.get("type"):
        group.type = text_field(traits["type"], 40).lower()
    if traits.get("name"):
        group.name = text_field(traits["name"], 300)
    group.updated_at = when
    session.flush()
    if identity_id is None:
        return
    role = (row.get("context") or {}).get("role")
    member = repository.group_member(session, group.id, identity_id)
    if member is None:
        session.add(
            GroupMember(
                workspace_id=workspace_id,
                group_pk=group.id,
                identity_id=identity_id,
                role=text_field(role, 80) if role else None,
                joined_at=when,
            )
        )
    elif role:
        member.role = text_field(role, 80)
