"""Members as rows a person reads: profile id, user id, email, phone, name and main traits.

Traits are read for the whole chunk of profiles at once (one query per chunk); a profile
without an email or phone trait falls back to its email and phone identities.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from safar.identity import service as identity

MAIN_TRAITS = ("first_name", "last_name", "city", "language", "plan")
COLUMNS = ("profile_id", "user_id", "email", "phone", "name", *MAIN_TRAITS)
CHUNK = 500


def display_name(traits: dict[str, Any]) -> str | None:
    name = traits.get("name") or " ".join(
        str(traits[k])
        for k in ("first_name", "last_name", "firstName", "lastName")
        if traits.get(k)
    )
    return str(name) if name else None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def profile_rows(
    session: Session, *, workspace_id: str, profile_ids: list[str]
) -> list[dict[str, Any]]:
    """One row per profile, in the order given."""
    keys = ["email", "phone", "name", "firstName", "lastName", *MAIN_TRAITS]
    traits = identity.workspace_traits(
        session, workspace_id=workspace_id, keys=keys, profile_ids=profile_ids
    )
    rows: list[dict[str, Any]] = []
    for pid in profile_ids:
        t = traits.get(pid, {})
        email, phone = _text(t.get("email")), _text(t.get("phone"))
        user_ids, _ = identity.event_identifiers(session, pid)
        if email is None or phone is None:
            idents = identity.identities_of(session, pid)
            email = email or next((i.value for i in idents if i.type == "email"), None)
            phone = phone or next((i.value for i in idents if i.type == "phone"), None)
        row: dict[str, Any] = {
            "profile_id": pid,
            "user_id": sorted(user_ids)[0] if user_ids else None,
            "email": email,
            "phone": phone,
            "name": display_name(t),
        }
        row.update({k: _text(t.get(k)) for k in MAIN_TRAITS})
        rows.append(row)
    return rows


def csv_chunks(
    open_session: Any, *, workspace_id: str, profile_ids: Iterable[str]
) -> Iterator[str]:
    """The CSV text of these profiles, a header then one chunk per ``CHUNK`` profiles, each
    read in its own short unit of work (``open_session()``) while the response streams."""
    ids = sorted(profile_ids)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    yield buf.getvalue()
    for start in range(0, len(ids), CHUNK):
        buf.seek(0)
        buf.truncate()
        with open_session() as session:
            writer.writerows(
                profile_rows(
                    session, workspace_id=workspace_id, profile_ids=ids[start : start + CHUNK]
                )
            )
        yield buf.getvalue()
