"""The touchpoint vocabulary: the channels a touchpoint can come through, and how a message's
channel is decided (shared by ingest, workspaces keys, analytics and orchestration)."""

from __future__ import annotations

from typing import Any, Literal

Channel = Literal[
    "web", "app", "email", "sms", "chat", "phone", "social", "store", "voice", "iot", "other"
]
CHANNELS: tuple[Channel, ...] = (
    "web",
    "app",
    "email",
    "sms",
    "chat",
    "phone",
    "social",
    "store",
    "voice",
    "iot",
    "other",
)

#: Words SDKs and other tools put in ``context.channel`` mapped onto Safar's channels.
ALIASES: dict[str, Channel] = {
    "browser": "web",
    "website": "web",
    "mobile": "app",
    "ios": "app",
    "android": "app",
    "in-app": "app",
    "push": "app",
    "text": "sms",
    "call": "phone",
    "call_center": "phone",
    "callcenter": "phone",
    "livechat": "chat",
    "messenger": "chat",
    "whatsapp": "chat",
    "telegram": "chat",
    "instagram": "social",
    "twitter": "social",
    "in_store": "store",
    "in-store": "store",
    "pos": "store",
    "kiosk": "store",
    "ivr": "voice",
    "device": "iot",
}
#: Channels that say where the code ran rather than how the customer came in.
NEUTRAL = {"server", "", "unknown"}
#: Every name and alias by its word: one lookup, and it gives the ``Channel`` type.
_WORDS: dict[str, Channel] = {**ALIASES, **{c: c for c in CHANNELS}}


def normalize_channel(value: str) -> Channel | None:
    """Map a free channel word onto a Safar channel; None when it is not a channel name."""
    return _WORDS.get(value.strip().lower())


def infer_channel(message_type: str, context: dict[str, Any], default: Channel | None) -> Channel:
    """Pick the channel of a message whose context does not name one."""
    if default:
        return default
    if message_type == "page":
        return "web"
    if message_type == "screen":
        return "app"
    library = str((context.get("library") or {}).get("name") or "").lower()
    if (
        "analytics.js" in library
        or "browser" in library
        or library.startswith("@segment/analytics-next")
    ):
        return "web"
    if any(s in library for s in ("ios", "android", "react-native", "flutter", "kotlin", "swift")):
        return "app"
    return "other"
