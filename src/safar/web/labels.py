"""Display labels (English message ids, translated when shown) of channels, roles and the
text models' classes."""

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

#: Labels of the text models' classes (``safar.text``), translated where shown.
SENTIMENT_LABELS = {
    "positive": N_("Positive"),
    "neutral": N_("Neutral"),
    "negative": N_("Negative"),
}
EMOTION_LABELS = {
    "joy": N_("Joy"),
    "anger": N_("Anger"),
    "sadness": N_("Sadness"),
    "fear": N_("Fear"),
    "surprise": N_("Surprise"),
    "disgust": N_("Disgust"),
    "other": N_("No clear emotion"),
}
CATEGORY_LABELS = {
    "delivery": N_("Delivery"),
    "quality": N_("Quality"),
    "service": N_("Service"),
    "price": N_("Price"),
    "payment": N_("Payment"),
    "app": N_("App"),
    "other": N_("Other topic"),
}
