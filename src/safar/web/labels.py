"""Display labels (English message ids, translated when shown) of channels and roles."""

from __future__ import annotations

from safar.web.i18n import N_

CHANNEL_LABELS: dict[str, str] = {
    "web": N_("Web"),
    "app": N_("App"),
    "email": N_("Email"),
    "sms": N_("SMS"),
    "chat": N_("Chat"),
    "phone": N_("Phone"),
    "social": N_("Social"),
    "store": N_("Store"),
    "voice": N_("Voice"),
    "iot": N_("Devices"),
    "other": N_("Other"),
}

ROLE_LABELS: dict[str, str] = {
    "admin": N_("Admin"),
    "analyst": N_("Analyst"),
    "agent": N_("Agent"),
    "viewer": N_("Viewer"),
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


#: Message types, shown where an event has no name of its own.
TYPE_LABELS: dict[str, str] = {
    "track": N_("Action"),
    "identify": N_("Identified"),
    "page": N_("Page view"),
    "screen": N_("Screen view"),
    "group": N_("Joined a group"),
    "alias": N_("Alias"),
}
