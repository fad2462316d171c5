"""Display labels (English message ids, translated when shown) of channels, roles and the
text models' classes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

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


#: The comparison operators of trait filters and segment rules (``kit.conditions.OPS``).
OP_LABELS: dict[str, str] = {
    "eq": N_("equals"),
    "neq": N_("does not equal"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "gt": N_("greater than"),
    "gte": N_("at least"),
    "lt": N_("less than"),
    "lte": N_("at most"),
    "contains": N_("contains"),
    "exists": N_("exists"),
    "not_exists": N_("does not exist"),
}


#: Well-known trait keys (Segment's reserved traits and what Safar's journeys read); any other
#: key is shown as it was sent, isolated.
TRAIT_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "firstName": N_("First name"),
    "lastName": N_("Last name"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "city": N_("City"),
    "country": N_("Country"),
    "address": N_("Address"),
    "birthday": N_("Birthday"),
    "age": N_("Age"),
    "gender": N_("Gender"),
    "company": N_("Company"),
    "title": N_("Job title"),
    "username": N_("Username"),
    "website": N_("Website"),
    "avatar": N_("Picture"),
    "description": N_("Description"),
    "created_at": N_("Signed up"),
    "createdAt": N_("Signed up"),
    "language": N_("Language"),
    "locale": N_("Language"),
    "calendar": N_("Calendar"),
    "timezone": N_("Time zone"),
    "anniversary": N_("Wedding anniversary"),
    "lifetime_value": N_("Lifetime value"),
    "telegram_chat_id": N_("Telegram chat"),
}

#: Why two profiles were merged (``identity.resolver``).
MERGE_CAUSES: dict[str, str] = {
    "identify": N_("identified with both ids"),
    "alias": N_("alias"),
    "shared_identifier": N_("a shared identifier"),
}

#: Consent purposes Safar's own sending asks about (``orchestration.policy``); others as sent.
CONSENT_PURPOSES: dict[str, str] = {
    "marketing": N_("marketing"),
    "transactional": N_("transactional"),
    "surveys": N_("surveys"),
    "analytics": N_("analytics"),
}
#: The channels a consent names: Safar's channels, or every one.
CONSENT_CHANNELS: dict[str, str] = {**CHANNEL_LABELS, "all": N_("every channel")}

#: Identifier types of a profile's identities.
IDENTITY_TYPES: dict[str, str] = {
    "user_id": N_("User id"),
    "anonymous_id": N_("Anonymous id"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "device_id": N_("Device id"),
    "instagram": N_("Instagram"),
    "telegram": N_("Telegram"),
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


#: The key-driver analysis names its factors after what it counts (``journeys.metrics``):
#: ``<event> (events)`` and ``<channel> contacts``.
_EVENT_FACTOR = re.compile(r"^(?P<name>.+) \(events\)$")
_CHANNEL_FACTOR = re.compile(r"^(?P<name>[\w-]+) contacts$")


def factor_label(factor: str, gettext: Callable[[str], str], *, isolate: bool = True) -> str:
    """A key driver's factor in the reader's language; the event's name isolated (``<bdi>``)
    unless ``isolate`` is false (a chart's axis, which draws text, not HTML)."""

    def name(text: str) -> str:
        return Markup("<bdi>%s</bdi>") % text if isolate else text

    def fill(template: str, value: str) -> str:
        translated = gettext(template)
        return (
            Markup(escape(translated)) % {"name": value}
            if isolate
            else translated % {"name": value}
        )

    if match := _EVENT_FACTOR.match(factor):
        return fill(N_("%(name)s (events)"), name(match["name"]))
    if (match := _CHANNEL_FACTOR.match(factor)) and match["name"] in CHANNEL_LABELS:
        return fill(N_("contacts by %(name)s"), gettext(CHANNEL_LABELS[match["name"]]))
    return name(factor)


def question_texts(definition: Mapping[str, Any], language: str) -> dict[str, str]:
    """Each survey question's text by its id, in the reader's language where the survey has it:
    pages show a respondent's answers under the question asked, not its id."""
    out: dict[str, str] = {}
    for question in definition.get("questions") or ():
        texts = question.get("text") or {}
        qid = str(question.get("id", ""))
        out[qid] = str(texts.get(language) or next(iter(texts.values()), qid))
    return out
