"""Personal survey links: signed (HMAC via itsdangerous), expiring, single-use.

The token carries only the invitation id, signed with the installation secret. Expiry is checked
twice (the signature's age and the invitation's ``expires_at``); single use is the invitation's
status in the state store, so it holds across processes and restarts.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from safar.errors import NotFound, SafarError

SALT = "safar.survey-link.v1"


class LinkForged(NotFound):
    """Unknown or tampered token: answer like an unknown page, reveal nothing."""


class LinkExpired(SafarError):
    status_code = 410


class LinkUsed(SafarError):
    status_code = 409


class LinkSigner:
    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt=SALT)

    def sign(self, invitation_id: str) -> str:
        return self._s.dumps(invitation_id)

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
