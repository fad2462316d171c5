"""The words of the journey builder: what its script shows, and validation messages in the
reader's language.

The builder's script has no catalogue of its own; the page hands it these strings translated,
so one ``messages.po`` serves the templates and the script alike. Validation messages come from
pydantic and ``flows.definition`` in English with the field path in front; the patterns below
translate the ones a builder user meets, and anything else keeps its English text (the field
path, which the builder highlights, is never translated).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from safar.web.i18n import N_
from safar.web.labels import OP_LABELS

#: What the builder's script shows, by key.
UI: dict[str, str] = {
    "trigger": N_("Entry"),
    "start": N_("start"),
    "next": N_("then"),
    "on_event": N_("on event"),
    "on_timeout": N_("on timeout"),
    "otherwise": N_("otherwise"),
    "rule": N_("rule"),
    "path": N_("path"),
    "none": N_("(none)"),
    "reached": N_("reached"),
    "entered": N_("entered"),
    "not_published": N_("Not published"),
    "minute": N_("minute"),
    "hour": N_("hour"),
    "day": N_("day"),
    "waiting": N_("waiting"),
    "sent": N_("sent"),
    "held": N_("held back"),
    "add_after": N_("Add a step after this one"),
    "add": N_("Add"),
    "delete": N_("Delete this step"),
    "select_hint": N_("Select a step in the graph to edit it."),
    "saved": N_("Saved as a draft."),
    "published": N_("Published: new entrants run this version."),
    "unsaved": N_("Unsaved changes"),
    "error": N_("This could not be saved"),
    "network": N_("The server could not be reached; try again."),
    "edges": N_("Where it goes next"),
    "step_id": N_("Step id"),
    "label": N_("Label"),
    "channel": N_("Channel"),
    "subject": N_("Subject"),
    "body": N_("Text"),
    "text_fa": N_("Persian text"),
    "text_en": N_("English text"),
    "mode": N_("Wait"),
    "duration": N_("Duration"),
    "unit": N_("Unit"),
    "minutes": N_("minutes"),
    "hours": N_("hours"),
    "days": N_("days"),
    "at": N_("At (local time)"),
    "trait": N_("Trait"),
    "offset_days": N_("Days before (-) or after (+)"),
    "calendar": N_("Calendar"),
    "event": N_("Event"),
    "timeout": N_("Timeout"),
    "conditions": N_("Conditions"),
    "add_condition": N_("Add a condition"),
    "add_rule": N_("Add a rule"),
    "add_path": N_("Add a path"),
    "remove": N_("Remove"),
    "match": N_("Match"),
    "percent": N_("Percent"),
    "kind": N_("Kind"),
    "key": N_("Key"),
    "op": N_("Operator"),
    "value": N_("Value"),
    "performed": N_("Did it"),
    "within_days": N_("Within (days)"),
    "segment_id": N_("Segment id"),
    "member": N_("Member"),
    "purpose": N_("Purpose"),
    "granted": N_("Granted"),
    "url": N_("URL"),
    "method": N_("Method"),
    "webhook_body": N_("Body (a JSON template)"),
    "webhook_body_hint": N_(
        "A JSON object. Put a customer's text in with tojson, which quotes it, and give a "
        "number a default, for customers who lack it:"
    ),
    "headers": N_("Headers"),
    "header_name": N_("Header name"),
    "header_value": N_("Value (a template)"),
    "add_header": N_("Add a header"),
    "survey_id": N_("Survey id"),
    "tag": N_("Tag"),
    "priority": N_("Priority"),
    "missing": N_("Missing event"),
    "within": N_("Within"),
    "on": N_("On"),
    "result": N_("Result"),
    "sentiment": N_("Sentiment"),
    "category": N_("Category"),
    "cron": N_("Cron"),
    "jalali_day": N_("Jalali day"),
    "jalali_month": N_("Jalali month"),
    "where": N_("Only when"),
    "preview": N_("Preview for a customer"),
    "profile_id": N_("Profile id"),
    "show": N_("Show"),
    "journey": N_("The automation"),
    "name": N_("Name"),
    "description": N_("Description"),
    "trigger_type": N_("Who enters, and when"),
    "start_step": N_("First step"),
    "goal": N_("Goal"),
    "goal_event": N_("Goal event (empty: no goal)"),
    "holdout": N_("Holdout (percent kept as a control group)"),
    "reentry": N_("Re-entry"),
    "cooldown_days": N_("Cooldown (days)"),
    "policy": N_("Send policy"),
    "topic": N_("Kind of message"),
    "consent_purpose": N_("Consent purpose"),
    "require_consent": N_("Only with recorded consent"),
    "quiet_start": N_("Quiet from (hour)"),
    "quiet_end": N_("Quiet until (hour)"),
}

#: Option values (of node types, channels, modes, ops...) as the reader sees them.
OPTIONS: dict[str, str] = {
    "delay": N_("Delay"),
    "wait": N_("Wait for an event"),
    "branch": N_("Branch"),
    "split": N_("Random split"),
    "send": N_("Send a message"),
    "webhook": N_("Webhook"),
    "survey": N_("Send a survey"),
    "set_trait": N_("Set a trait"),
    "case": N_("Open a case"),
    "exit": N_("Exit"),
    "email": N_("Email"),
    "sms": N_("SMS"),
    "push": N_("Push"),
    "telegram": N_("Telegram"),
    "app": N_("In-app"),
    "time_of_day": N_("until a time of day"),
    "trait_date": N_("until a trait's date"),
    "jalali": N_("Jalali"),
    "gregorian": N_("Gregorian"),
    "profile": N_("the customer's own"),
    "all": N_("all"),
    "any": N_("any"),
    **OP_LABELS,  # the condition operators, worded as on the Customers page
    "consent": N_("Consent"),
    "segment": N_("Segment"),
    "add": N_("add"),
    "remove": N_("remove"),
    "low": N_("low"),
    "normal": N_("normal"),
    "high": N_("high"),
    "urgent": N_("urgent"),
    "event": N_("an event"),
    "trigger.survey": N_("a survey answer"),
    "trigger.segment": N_("entering or leaving a segment"),
    "absence": N_("an event not followed by another"),
    "date": N_("a date trait (yearly)"),
    "text": N_("a text result"),
    "schedule": N_("a schedule"),
    "api": N_("an API call"),
    "enter": N_("entering"),
    "leave": N_("leaving"),
    "detractor": N_("detractor"),
    "passive": N_("passive"),
    "promoter": N_("promoter"),
    "low_csat": N_("low CSAT"),
    "negative": N_("negative"),
    "positive": N_("positive"),
    "neutral": N_("neutral"),
    "marketing": N_("marketing"),
    "transactional": N_("transactional"),
    "once": N_("once"),
    "cooldown": N_("after a cooldown"),
    "always": N_("always"),
}

#: Why instances left, as the summary strip names them.
EXITS: dict[str, str] = {
    "completed": N_("completed"),
    "goal": N_("reached the goal"),
    "exit": N_("exit step"),
    "loop guard": N_("loop guard"),
    "not entered": N_("not entered"),
}

#: A journey message's outcome at the scheduler, and why it was skipped or held.
MESSAGE_STATUSES: dict[str, str] = {
    "pending": N_("to send"),
    "claimed": N_("sending"),
    "sending": N_("sending"),
    "done": N_("sent"),
    "skipped": N_("skipped"),
    "failed": N_("failed"),
    "uncertain": N_("uncertain"),
}
MESSAGE_REASONS: dict[str, str] = {
    "consent": N_("no consent"),
    "cap": N_("contact budget"),
    "quiet_hours": N_("quiet hours"),
    "rate_limit": N_("rate limit"),
    "missing_address": N_("no address"),
    "fatigue": N_("asked recently"),
    "paused": N_("paused"),
    "error": N_("channel error"),
}

#: The shipped templates' names and descriptions, so the catalogue translates them.
TEMPLATE_TEXTS = (
    N_("Abandoned cart"),
    N_(
        "A product added to the cart and no order within an hour: a reminder by SMS, then an "
        "email a day later. An order at any point ends the journey as a conversion."
    ),
    N_("Wedding anniversary - flowers the day before"),
    N_("The day before the anniversary, at 11:00 local time, an offer of flowers."),
    N_("Birthday SMS"),
    N_(
        "A personal SMS at 10:00 on the customer's birthday, kept by the Jalali calendar for "
        "Persian speakers (the profile's `calendar` trait can say otherwise)."
    ),
    N_("Detractor recovery"),
    N_(
        "An NPS of 0-6: an apology at once, a case for a call when the customer is a high-value "
        "one, and a follow-up question a week later."
    ),
    N_("Welcome series"),
    N_(
        "A welcome email at sign-up, tips two days later at 10:00, and an offer after a week "
        "without an order."
    ),
    N_("Win-back after 60 days of silence"),
    N_(
        "Sixty days after a customer's last order with no new one: a win-back offer; a second "
        "order within 30 days is the goal."
    ),
    # the steps' labels and the case's subject
    N_("Reminder"),
    N_("Wait for an order"),
    N_("Second reminder"),
    N_("Flowers offer"),
    N_("Birthday wishes"),
    N_("Apology"),
    N_("High-value customer?"),
    N_("Gold or platinum"),
    N_("Call back"),
    N_("Call {{ first_name | default('the customer') }} back: NPS detractor"),
    N_("A week later"),
    N_("Mark as followed up"),
    N_("Welcome"),
    N_("Two days later"),
    N_("Until 10:00"),
    N_("Tips"),
    N_("Wait for a first order"),
    N_("First-order offer"),
    N_("Win-back offer"),
)

_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^no event '(?P<name>.*)' has been seen in this workspace$"),
        N_("No event %(name)s has been seen in this workspace; check its spelling."),
    ),
    (re.compile(r"^Field required$"), N_("Required.")),
    (re.compile(r"^String should have at least 1 character$"), N_("Required.")),
    (re.compile(r"^no edge leads to this node$"), N_("No step leads to this one.")),
    (re.compile(r"^no node '(?P<name>.*)'$"), N_("There is no step %(name)s.")),
    (
        re.compile(r"^the paths add up to (?P<name>.*)%, not 100%$"),
        N_("The paths add up to %(name)s percent, not 100."),
    ),
    (
        re.compile(r"^a loop with no delay or wait \((?P<name>.*)\)$"),
        N_("A loop with no delay or wait: %(name)s."),
    ),
    (re.compile(r"^no survey '(?P<name>.*)'$"), N_("There is no survey %(name)s.")),
    (re.compile(r"^no segment '(?P<name>.*)'$"), N_("There is no segment %(name)s.")),
    (re.compile(r"^String should match pattern"), N_("Use lowercase letters, digits and _.")),
    (re.compile(r"^Input should be a valid (integer|number)"), N_("Enter a number.")),
    (re.compile(r"^Input should be greater than"), N_("The number is too small.")),
    (re.compile(r"^Input should be less than"), N_("The number is too large.")),
    (re.compile(r"^Dictionary should have at least 1 item"), N_("Write at least one text.")),
    (
        re.compile(r"^a local time as HH:MM"),
        N_("Enter a local time as HH:MM (00:00 to 23:59)."),
    ),
    (
        re.compile(r"^no profile in this workspace has the trait '(?P<name>.*)'$"),
        N_("No customer in this workspace has the trait %(name)s; check its spelling."),
    ),
    (
        re.compile(
            r"^not JSON once rendered for a sample profile: .* "
            r"\(line (?P<line>\d+), column (?P<column>\d+)\)$"
        ),
        N_(
            "This is not JSON once filled in for a sample customer: look at line %(line)s, "
            "column %(column)s."
        ),
    ),
    (
        re.compile(r"^the body must be a JSON object"),
        N_("The body must be a JSON object, in braces."),
    ),
    (
        re.compile(r"^'(?P<name>.*)' is not a header name a step may set$"),
        N_("%(name)s is not a header name a step may set."),
    ),
    (
        re.compile(r"^'(?P<name>.*)': one line of at most 2000 characters$"),
        N_("The value of %(name)s must be one line of at most 2000 characters."),
    ),
    (
        re.compile(r"^the node id '(?P<name>.*)' is used twice$"),
        N_("The step id %(name)s is used twice."),
    ),
)


def _same(text: str) -> str:
    return text


def translate_error(
    message: str,
    field: str,
    gettext: Callable[[str], str],
    numerals: Callable[[str], str] = _same,
) -> str:
    """The message without its field prefix, in the reader's language where we know it (a
    number in it, such as a line, in the reader's digits)."""
    text = message.removeprefix(f"{field}: ").removeprefix("Value error, ")
    for pattern, template in _MESSAGES:
        match = pattern.match(text)
        if match:
            # A name isolated, so that one in Latin letters keeps its order inside a Persian
            # sentence; a number in the reader's digits.
            values = {
                k: numerals(v) if v.isdigit() else f"\u2068{v}\u2069"
                for k, v in match.groupdict().items()
            }
            out = gettext(template)
            return out % values if values else out
    return text


def translated(table: dict[str, str], gettext: Callable[[str], str]) -> dict[str, str]:
    return {key: gettext(value) for key, value in table.items()}
