"""Who a message job is about, as of now, and whether their consent lets it go: one profile
(``resolve_recipient``) or a scheduler batch's (``resolve_recipients``). Re-exported by
``service``, the module other domains use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from safar.errors import NotFound
from safar.identity.service import (
    current_consent,
    current_consents,
    current_traits,
    event_profile,
    identities_of,
    people,
)
from safar.identity.service import resolve_profile_id as _resolve
from safar.orchestration.policy import SendPolicy


@dataclass(slots=True)
class Recipient:
    profile_id: str
    identity_ids: list[int]
    traits: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    phone: str | None = None
    consent: list[Any] = field(default_factory=list)
    #: The newest identifier of each type (``telegram``, ``instagram``, ...).
    handles: dict[str, str] = field(default_factory=dict)

    def address(self, channel: str, params: Mapping[str, Any] | None = None) -> str | None:
        """Where ``channel`` reaches the profile; None when it cannot."""
        if channel == "email":
            return self.email
        if channel == "sms":
            return self.phone
        if channel == "telegram":
            # The Bot API sends to chat ids: a private chat's id is the user's numeric id, so a
            # ``telegram`` identity serves only when it is one (a @handle cannot be messaged).
            chat = self.traits.get("telegram_chat_id")
            if chat not in (None, ""):
                return str(chat)
            handle = self.handles.get("telegram", "")
            return handle if handle.lstrip("-").isdigit() else None
        if channel == "push":
            token = self.traits.get("push_token")
            return str(token) if token not in (None, "") else None
        if channel == "webhook":
            url = (params or {}).get("url")
            return url if isinstance(url, str) and url else None
        return self.profile_id


def resolve_recipient(
    session: Session,
    *,
    workspace_id: str,
    payload: dict[str, Any],
    profile_id: str | None = None,
) -> Recipient:
    """The profile the job is about, as of now: ``profile_id`` (followed through merges), or
    the one owning the triggering event's user id (or anonymous id)."""
    pid = profile_id or event_profile(
        session,
        workspace_id=workspace_id,
        user_id=payload.get("user_id"),
        anonymous_id=payload.get("anonymous_id"),
    )
    if pid is None:
        raise NotFound("the triggering event has no known profile", field="user_id")
    pid = _resolve(session, workspace_id=workspace_id, profile_id=pid)
    idents = identities_of(session, pid)
    ids = [i.id for i in idents]
    email = next((i.value for i in idents if i.type == "email"), None)
    phone = next((i.value for i in idents if i.type == "phone"), None)
    return Recipient(
        profile_id=pid,
        identity_ids=ids,
        traits=current_traits(session, ids),
        email=email,
        phone=phone,
        consent=current_consent(session, ids),
        handles={i.type: i.value for i in idents},
    )


def resolve_recipients(
    session: Session, *, workspace_id: str, profile_ids: Sequence[str]
) -> dict[str, Recipient]:
    """``resolve_recipient`` for many profiles of one workspace (a scheduler batch's journey
    messages) in a handful of queries; keyed by the profile id asked for."""
    found = people(session, workspace_id=workspace_id, profile_ids=profile_ids)
    consents = current_consents(session, {r.profile_id: r.identity_ids for r in found.values()})
    out: dict[str, Recipient] = {}
    for asked, r in found.items():
        ids = r.identifiers
        out[asked] = Recipient(
            profile_id=r.profile_id,
            identity_ids=list(r.identity_ids),
            traits=dict(r.traits),
            email=next((v for t, v in ids if t == "email"), None),
            phone=next((v for t, v in ids if t == "phone"), None),
            consent=list(consents.get(r.profile_id, [])),
            handles=dict(ids),
        )
    return out


def consent_allows(policy: SendPolicy, recipient: Recipient, channel: str) -> bool:
    """The latest decision for the purpose on this channel (or 'all'); a channel-specific
    record beats 'all'. Without any record the policy's ``require_consent`` decides."""
    if not policy.consent_purpose:
        return True
    specific = [
        c for c in recipient.consent if c.purpose == policy.consent_purpose and c.channel == channel
    ]
    general = [
        c for c in recipient.consent if c.purpose == policy.consent_purpose and c.channel == "all"
    ]
    decision = specific or general
    if decision:
        return bool(decision[-1].granted)
    return not policy.require_consent
