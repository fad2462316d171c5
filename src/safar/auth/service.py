"""Users (argon2 passwords, roles) and server-side sessions. Never commits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from safar.auth.models import User, WebSession
from safar.db import utcnow
from safar.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from safar.identity.identifiers import normalize_email
from safar.workspaces.service import get_workspace

ROLES: tuple[str, ...] = ("admin", "analyst", "agent", "viewer")

#: What each role may do. Pages and API endpoints ask for a permission, never a role name, so
#: a new page states its need once and the table below stays the single source of truth.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "settings": frozenset({"admin", "analyst", "agent"}),
    "manage_keys": frozenset({"admin", "analyst"}),
    "import": frozenset({"admin", "analyst"}),
    "manage_users": frozenset({"admin"}),
    "manage_workspaces": frozenset({"admin"}),
    "unmerge": frozenset({"admin"}),
}
LOCALES: tuple[str, ...] = ("fa", "en")
CALENDARS: tuple[str, ...] = ("jalali", "gregorian")
SESSION_IDLE = timedelta(hours=12)
SESSION_MAX = timedelta(days=7)
MIN_PASSWORD = 8

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())


def permissions_of(role: str) -> list[str]:
    return sorted(p for p, roles in PERMISSIONS.items() if role in roles)


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed(f"role: must be one of {', '.join(ROLES)}", field="role")
    return role


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password: at least {MIN_PASSWORD} characters", field="password")
    return password


def create_user(session: Session, *, email: str, password: str, role: str, name: str = "") -> User:
    """Create a dashboard user with an argon2id password hash."""
    norm = normalize_email(email)
    if norm is None:
        raise ValidationFailed("email: not a valid email address", field="email")
    _check_role(role)
    _check_password(password)
    if session.scalar(select(User.id).where(User.email == norm)) is not None:
        raise Conflict(f"email: a user with {norm} already exists", field="email")
    user = User(
        id="usr_" + uuid.uuid4().hex[:20],
        email=norm,
        name=name.strip()[:200],
        password_hash=_hasher.hash(password),
        role=role,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.created_at, User.email)))


def user_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id[:60]} not found", field="user_id")
    return user


def set_role(session: Session, *, user_id: str, role: str, actor_id: str) -> User:
    user = get_user(session, user_id)
    _check_role(role)
    if user.id == actor_id and role != "admin":
        raise ValidationFailed("role: you cannot remove your own admin role", field="role")
    user.role = role
    return user


def set_disabled(session: Session, *, user_id: str, disabled: bool, actor_id: str) -> User:
    user = get_user(session, user_id)
    if user.id == actor_id and disabled:
        raise ValidationFailed("user_id: you cannot disable yourself", field="user_id")
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def set_password(session: Session, *, user_id: str, password: str) -> User:
    user = get_user(session, user_id)
    user.password_hash = _hasher.hash(_check_password(password))
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def set_preferences(
    session: Session,
    *,
    user_id: str,
    locale: str | None = None,
    calendar: str | None = None,
) -> User:
    user = get_user(session, user_id)
    if locale is not None:
        if locale not in LOCALES:
            raise ValidationFailed(f"locale: one of {', '.join(LOCALES)}", field="locale")
        user.locale = locale
    if calendar is not None:
        if calendar not in CALENDARS:
            raise ValidationFailed(f"calendar: one of {', '.join(CALENDARS)}", field="calendar")
        user.calendar = calendar
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """Return the user whose password matches; one vague error for every failure."""
    norm = normalize_email(email) or ""
    user = session.scalar(select(User).where(User.email == norm)) if norm else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("email or password is wrong", field="password") from None
    if user is None:
        raise Unauthorized("email or password is wrong", field="password")
    if user.disabled_at is not None:
        raise Unauthorized("this account is disabled", field="email")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, *, user: User, workspace_id: str | None = None
) -> tuple[WebSession, str]:
    """Open a session for ``user``; return it and the raw token (the cookie value, shown once)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    web = WebSession(
        id=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        workspace_id=workspace_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_MAX,
    )
    session.add(web)
    session.flush()
    return web, token


def resolve_session(
    session: Session, token: str, *, now: datetime | None = None
) -> tuple[WebSession, User]:
    """The live session and user of a cookie token; Unauthorized when unknown or expired."""
    if not token:
        raise Unauthorized("sign in first", field="session")
    web = session.get(WebSession, _digest(token))
    if web is None:
        raise Unauthorized("your session has ended; sign in again", field="session")
    now = now or utcnow()
    if web.expires_at <= now or web.last_seen_at + SESSION_IDLE <= now:
        session.delete(web)
        raise Unauthorized("your session has expired; sign in again", field="session")
    user = session.get(User, web.user_id)
    if user is None or user.disabled_at is not None:
        session.delete(web)
        raise Unauthorized("this account is disabled", field="session")
    # Touch at most once a minute so reads do not turn into a write per request.
    if now - web.last_seen_at > timedelta(minutes=1):
        web.last_seen_at = now
    return web, user


def end_session(session: Session, token: str) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def expire_session(session: Session, token: str) -> None:
    """Mark a session expired now (tests and forced sign-out)."""
    web = session.get(WebSession, _digest(token))
    if web is not None:
        web.expires_at = datetime.now(UTC) - timedelta(seconds=1)


def set_session_workspace(session: Session, *, web: WebSession, workspace_id: str) -> None:
    if get_workspace(session, workspace_id) is None:
        raise NotFound(f"workspace {workspace_id[:60]} not found", field="workspace_id")
    web.workspace_id = workspace_id


def csrf_matches(expected: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(expected.encode(), (presented or "").encode())
