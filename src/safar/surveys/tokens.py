"""Survey links: personal ones signed (HMAC via itsdangerous), expiring and single-use, and
each survey's open link (signed apart) that makes a fresh anonymous invitation per visitor.

The token carries only the invitation id, signed with the installation secret. Expiry is checked
twice (the signature's age and the invitation's ``expires_at``); single use is the invitation's
status in the state store, so it holds across processes and restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from safar.errors import NotFound, SafarError

SALT = "safar.survey-link.v1"
#: Open links (one per survey, anyone may answer) are signed apart, so neither token passes
#: for the other.
OPEN_SALT = "safar.survey-open.v1"


class LinkForged(NotFound):
    """Unknown or tampered token: answer like an unknown page, reveal nothing."""


class LinkExpired(SafarError):
    status_code = 410


class LinkUsed(SafarError):
    status_code = 409


class _SignedAt(TimestampSigner):
    """A timestamp signer whose time is given, not read from the clock."""

    def __init__(self, *args: Any, stamp: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stamp = stamp

    def get_timestamp(self) -> int:
        return self.stamp


class LinkSigner:
    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._s = URLSafeTimedSerializer(secret, salt=SALT)
        self._open = URLSafeSerializer(secret, salt=OPEN_SALT)

    def sign(self, invitation_id: str, at: datetime | None = None) -> str:
        """The token; ``at`` (the invitation's creation) fixes its time, so every attempt to
        deliver one invitation carries the same link (a retried message is the same bytes)."""
        if at is None:
            return self._s.dumps(invitation_id)
        fixed = URLSafeTimedSerializer(
            self._secret,
            salt=SALT,
            signer=_SignedAt,
            signer_kwargs={"stamp": int(at.timestamp())},
        )
        return fixed.dumps(invitation_id)

    def verify(self, token: str, max_age_s: int | None = None) -> str:
        """The invitation id inside a genuine token; raises ``LinkForged``/``LinkExpired``."""
        if not token or len(token) > 300:
            raise LinkForged("token: this survey link is not valid", field="token")
        try:
            value = self._s.loads(token, max_age=max_age_s)
        except SignatureExpired:
            raise LinkExpired("token: this survey link has expired", field="token") from None
        except BadSignature:
            raise LinkForged("token: this survey link is not valid", field="token") from None
        if not isinstance(value, str):
            raise LinkForged("token: this survey link is not valid", field="token")
        return value

    def sign_survey(self, workspace_id: str, survey_id: str) -> str:
        """The token of a survey's open link: the same one each time, so it can be printed."""
        return self._open.dumps([workspace_id, survey_id])

    def verify_survey(self, token: str) -> tuple[str, str]:
        """The (workspace, survey) inside a genuine open-link token; raises ``LinkForged``."""
        if not token or len(token) > 300:
            raise LinkForged("token: this survey link is not valid", field="token")
        try:
            value = self._open.loads(token)
        except BadSignature:
            raise LinkForged("token: this survey link is not valid", field="token") from None
        if not (
            isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
        ):
            raise LinkForged("token: this survey link is not valid", field="token")
        return value[0], value[1]
