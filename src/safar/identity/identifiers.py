"""Which identifiers a message carries, normalised so the same person matches the same node."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Highest first: the profile of the strongest identifier on a message wins attribution.
PRIORITY: tuple[str, ...] = (
    "user_id",
    "email",
    "phone",
    "telegram",
    "instagram",
    "whatsapp",
    "twitter",
    "external",
    "device_id",
    "anonymous_id",
)
_RANK = {t: i for i, t in enumerate(PRIORITY)}
HANDLE_TRAITS = ("telegram", "instagram", "whatsapp", "twitter")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Control characters never belong in an identifier (and PostgreSQL text cannot hold NUL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text_field(value: Any, limit: int) -> str:
    """Text for a state-store column: NUL bytes (PostgreSQL cannot store them) dropped, cut."""
    return str(value).replace("\x00", "")[:limit]


def _plain_id(value: Any, limit: int = 255) -> str | None:
    text = str(value)
    return None if _CONTROL.search(text) else text[:limit] or None


def normalize_email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    if _CONTROL.search(email):
        return None
    return email if _EMAIL.match(email) and len(email) <= 320 else None


def normalize_phone(value: Any, default_country: str = "98") -> str | None:
    """E.164-like: Persian/Arabic digits folded, separators dropped, national 0 prefix expanded."""
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    raw = value.translate(_DIGITS).strip()
    plus = raw.startswith("+")
    digits = re.sub(r"\D", "", raw)
    if not digits:
        return None
    if plus:
        pass
    elif digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = default_country + digits[1:]
    elif len(digits) == 10 and default_country == "98" and digits.startswith("9"):
        digits = default_country + digits
    if digits.startswith(default_country + "0"):
        # "+98 0912 ...": the national trunk 0 kept after the country code.
        digits = default_country + digits[len(default_country) + 1 :]
    if not 8 <= len(digits) <= 15:
        return None
    return "+" + digits


def normalize_handle(value: Any) -> str | None:
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    handle = value.strip().lstrip("@").lower()
    if _CONTROL.search(handle):
        return None
    return handle[:255] or None


def extract(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """All (type, value) identifiers of a normalised message, strongest first, no repeats."""
    traits = row.get("traits") or {}
    context = row.get("context") or {}
    if not (traits or context.get("traits") or context.get("externalIds") or context.get("device")):
        # Most traffic: a userId and/or an anonymousId and nothing else to normalise.
        ids = []
        if row.get("user_id"):
            ids.append(("user_id", row["user_id"]))
        if row.get("anonymous_id"):
            ids.append(("anonymous_id", row["anonymous_id"]))
        return ids
    found: dict[tuple[str, str], None] = {}
    ctx_traits = context.get("traits") if isinstance(context.get("traits"), dict) else {}
    if row.get("user_id"):
        found[("user_id", row["user_id"])] = None
    for source in (traits, ctx_traits) if row["type"] != "group" else (ctx_traits,):
        if not isinstance(source, dict):
            continue
        email = normalize_email(source.get("email"))
        if email:
            found[("email", email)] = None
        phone = normalize_phone(source.get("phone"))
        if phone:
            found[("phone", phone)] = None
        for handle in HANDLE_TRAITS:
            value = normalize_handle(source.get(handle))
            if value:
                found[(handle, value)] = None
    external = context.get("externalIds")
    if isinstance(external, list):
        for item in external:
            if isinstance(item, dict) and item.get("id") and item.get("type"):
                kind = str(item["type"]).strip().lower()[:40]
                if _CONTROL.search(kind):
                    continue
                if kind == "email":
                    email = normalize_email(item["id"])
                    if email:
                        found[("email", email)] = None
                elif kind in ("phone", "phone_number"):
                    phone = normalize_phone(item["id"])
                    if phone:
                        found[("phone", phone)] = None
                else:
                    external_id = _plain_id(item["id"])
                    if external_id:
                        found[(kind, external_id)] = None
    device = context.get("device")
    if isinstance(device, dict) and device.get("id"):
        device_id = _plain_id(device["id"])
        if device_id:
            found[("device_id", device_id)] = None
    if row.get("anonymous_id"):
        found[("anonymous_id", row["anonymous_id"])] = None
    return sorted(found, key=lambda k: _RANK.get(k[0], _RANK["external"]))
