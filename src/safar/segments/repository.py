"""Every query of the segments domain, on the kit's workspace-scoped base."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.orm import Session

from safar.kit.repository import WorkspaceRepository, delete_rows, export_rows
from safar.segments.models import Segment, SegmentListedProfile, SegmentMember


class SegmentRepository(WorkspaceRepository[Segment]):
    model = Segment

    def all(self, workspace_id: str) -> list[Segment]:
        return self.list(workspace_id, order_by=[Segment.created_at, Segment.id])

    def locked(self, workspace_id: str, segment_id: str) -> Segment | None:
        """The segment, its row held until the transaction ends (refreshes of it queue)."""
        stmt = self.scoped(workspace_id).where(Segment.id == segment_id).with_for_update()
        return self.session.scalars(stmt).first()


class MemberRepository(WorkspaceRepository[SegmentMember]):
    model = SegmentMember

    def ids(self, workspace_id: str, segment_id: str) -> set[str]:
        stmt = self.scoped(workspace_id).where(SegmentMember.segment_id == segment_id)
        return set(self.session.scalars(stmt.with_only_columns(SegmentMember.profile_id)))

    def page(self, workspace_id: str, segment_id: str, *, limit: int, offset: int) -> list[str]:
        stmt = (
            self.scoped(workspace_id)
            .where(SegmentMember.segment_id == segment_id)
            .with_only_columns(SegmentMember.profile_id)
            .order_by(SegmentMember.profile_id)
            .limit(limit)
            .offset(offset)
        )
        return list(self.session.scalars(stmt))

    def count(self, workspace_id: str, segment_id: str) -> int:
        stmt = self.scoped(workspace_id).where(SegmentMember.segment_id == segment_id)
        return int(self.session.scalar(stmt.with_only_columns(func.count())) or 0)

    def add_all(self, workspace_id: str, segment_id: str, ids: list[str], since: datetime) -> None:
        self.session.add_all(
            SegmentMember(
                segment_id=segment_id, profile_id=p, workspace_id=workspace_id, since=since
            )
            for p in ids
        )
        self.session.flush()

    def remove(self, workspace_id: str, segment_id: str, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            self.session.execute(
                delete(SegmentMember).where(
                    SegmentMember.workspace_id == workspace_id,
                    SegmentMember.segment_id == segment_id,
                    SegmentMember.profile_id.in_(ids[start : start + 500]),
                )
            )


class ListedRepository(WorkspaceRepository[SegmentListedProfile]):
    """The fixed lists of listed segments."""

    model = SegmentListedProfile

    def ids(self, workspace_id: str, segment_id: str) -> list[str]:
        stmt = (
            self.scoped(workspace_id)
            .where(SegmentListedProfile.segment_id == segment_id)
            .with_only_columns(SegmentListedProfile.profile_id)
            .order_by(SegmentListedProfile.profile_id)
        )
        return list(self.session.scalars(stmt))

    def add_all(self, workspace_id: str, segment_id: str, ids: list[str]) -> None:
        self.session.add_all(
            SegmentListedProfile(segment_id=segment_id, profile_id=p, workspace_id=workspace_id)
            for p in ids
        )
        self.session.flush()


# -- privacy requests: the segments a person is in --------------------------------------------
def person_rows(session: Session, *, workspace_id: str, profile_ids: list[str]) -> dict[str, Any]:
    """The memberships of these profiles (segment id and since when) and the fixed lists
    they are on."""
    cond = SegmentMember.profile_id.in_(profile_ids)
    listed = SegmentListedProfile.profile_id.in_(profile_ids)
    return {
        "memberships": export_rows(session, SegmentMember, workspace_id, cond),
        "listed_in": export_rows(session, SegmentListedProfile, workspace_id, listed),
    }


def erase_person(session: Session, *, workspace_id: str, profile_ids: list[str]) -> int:
    """Delete the profiles' memberships (the next refresh emits no exit for them) and take
    them off every fixed list."""
    listed = delete_rows(
        session,
        SegmentListedProfile,
        workspace_id,
        SegmentListedProfile.profile_id.in_(profile_ids),
    )
    return listed + delete_rows(
        session, SegmentMember, workspace_id, SegmentMember.profile_id.in_(profile_ids)
    )
