"""Identity graph tables: profiles, identities (graph nodes), links (edges), merges, traits,
consent and groups (households and accounts).

Traits, consent and group memberships hang off the *identity* that reported them, not the
profile: a profile is just the set of identities pointing at it, so merge and unmerge only move
identities and everything else follows.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from safar.kit.db import Base, BigId, utcnow


def new_identity_id() -> int:
    return secrets.randbits(63)


class Profile(Base):
    __tablename__ = "profiles"
    #: The customer list's first page: newest unmerged profiles (migration 0013); the list
    #: filtered by a trait, unmerged profiles in id order (0015).
    __table_args__ = (
        Index("ix_profiles_recent", "workspace_id", "merged_into", text("updated_at DESC"), "id"),
        Index("ix_profiles_listed", "workspace_id", "merged_into", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: Set while this profile is merged into another; cleared again by an unmerge.
    merged_into: Mapped[str | None] = mapped_column(String(40), default=None, index=True)


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "type", "value", name="uq_identity"),
        #: Search by part of an identifier, newest first (migration 0013).
        Index("ix_identities_first_seen", "workspace_id", "first_seen"),
    )

    #: Chosen by the application (random 63-bit), so new identities need no round trip for
    #: their id before links and traits can point at them.
    id: Mapped[int] = mapped_column(
        BigId, primary_key=True, autoincrement=False, default=new_identity_id
    )
    workspace_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(320))
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id"), index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(80), default="")


class IdentityLink(Base):
    """An edge: two identifiers seen on one message. ``blocked`` edges never merge again."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("workspace_id", "a_id", "b_id", name="uq_link"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    a_id: Mapped[int] = mapped_column(BigId, index=True)
    b_id: Mapped[int] = mapped_column(BigId, index=True)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)


class Merge(Base):
    """One merge of profile ``from_profile_id`` into ``into_profile_id``, with its cause."""

    __tablename__ = "merges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    into_profile_id: Mapped[str] = mapped_column(String(40), index=True)
    from_profile_id: Mapped[str] = mapped_column(String(40), index=True)
    #: identify | alias | shared_identifier | manual
    cause: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    #: The identifiers whose co-occurrence caused the merge, as "type:value".
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Identity ids of each side at merge time; unmerge separates them again.
    into_identity_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    from_identity_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(default=None)
    undone_by: Mapped[str | None] = mapped_column(String(200), default=None)


class MergeConflict(Base):
    """A merge the rules refused (e.g. two different userIds on one shared device)."""

    __tablename__ = "merge_conflicts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    profile_a: Mapped[str] = mapped_column(String(40))
    profile_b: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TraitValue(Base):
    """One observation of a trait: its value, where it came from and when."""

    __tablename__ = "trait_values"
    __table_args__ = (
        Index("ix_trait_identity_key", "identity_id", "key", "observed_at"),
        Index("ix_trait_message", "workspace_id", "message_id"),
        #: Which trait keys a workspace has (journeys refuse a trait no profile has).
        Index("ix_trait_workspace_key", "workspace_id", "key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    identity_id: Mapped[int] = mapped_column(BigId)
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(80))
    observed_at: Mapped[datetime] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(255))


class ConsentRecord(Base):
    """Consent for one purpose on one channel ('all' = every channel), as history."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_identity", "identity_id", "purpose", "channel", "observed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    identity_id: Mapped[int] = mapped_column(BigId)
    purpose: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(80))
    observed_at: Mapped[datetime] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(255))


class Group(Base):
    """A household, account or company that profiles belong to."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("workspace_id", "group_id", name="uq_group"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    group_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(40), default="account")
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    traits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_pk", "identity_id", name="uq_group_member"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40), index=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    identity_id: Mapped[int] = mapped_column(BigId, index=True)
    role: Mapped[str | None] = mapped_column(String(80), default=None)
    joined_at: Mapped[datetime] = mapped_column()
