"""What a demo customer says: support contacts, reviews, survey answers and social posts.

Each follows the customer's experience and mood (see ``story.Life``): a late order brings a
chat or a call and an angry review, a smooth one praise. Survey invitations and answers are
``Ask`` records, not events: the loader sends them through Safar's surveys (``demo.surveys``),
which write the ``survey_answered`` events themselves, as in production.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from safar.demo.people import feedback_text
from safar.demo.texts import CHAT_OPENERS, TOPICS

if TYPE_CHECKING:
    from safar.demo.story import Life


@dataclass(slots=True)
class Ask:
    """One survey invitation of the story and, if the customer answers, what they say.

    ``survey`` is a key of ``demo.surveys.DEMO_SURVEYS``; ``scores`` holds one value per scale
    (``nps`` 0-10, ``csat`` 1-5, ``ces`` 1-7); ``comment`` answers the survey's first text
    question. Times are whole seconds (a rerun finds the invitation again by them).
    """

    survey: str
    user_id: str
    language: str
    channel: str
    sent: datetime
    answered: datetime | None = None
    scores: dict[str, int] = field(default_factory=dict)
    comment: str | None = None
    trigger_message_id: str | None = None
    trigger_event: str | None = None


def ask_rng(life: Life, key: str) -> random.Random:
    """A random stream of its own for a survey added after the story was written, so the rest
    of the customer's story (and its messageIds) stays as it was."""
    return random.Random(f"safar-demo:{life.seed}:ask:{key}")


def support(life: Life, t: datetime, problem: str, oid: str, product: str) -> datetime:
    """A chat or a call about a problem, a ticket and its resolution; returns when resolved."""
    rng, c, emit = life.rng, life.c, life.emit
    ticket = f"tkt-{oid}"
    topic = {"late": "delivery", "damaged": "quality", "payment": "payment"}[problem]
    channel = (
        _chat(life, t, problem, topic, oid, product)
        if rng.random() < 0.55
        else _call(life, t, problem, oid)
    )
    emit(
        "track",
        t + timedelta(minutes=5),
        channel,
        user=c.user_id,
        event="Ticket Opened",
        properties={
            "ticket_id": ticket,
            "order_id": oid,
            "topic": topic,
            "priority": rng.choice(("normal", "high")),
        },
    )
    hours = rng.uniform(1, 26) if rng.random() < 0.8 else rng.uniform(48, 200)
    resolved = t + timedelta(hours=hours)
    csat = rng.choice((4, 5)) if hours < 24 else rng.choice((1, 2, 3))
    life.c.mood += 0.8 if csat >= 4 else -0.8
    done = emit(
        "track",
        resolved,
        channel,
        user=c.user_id,
        event="Ticket Resolved",
        properties={"ticket_id": ticket, "order_id": oid, "hours_to_resolve": round(hours, 1)},
    )
    emit.skip()  # earlier versions' survey_answered event
    _support_survey(life, done["messageId"], resolved, hours, csat, topic, product)
    return resolved


def _support_survey(
    life: Life, trigger: str, resolved: datetime, hours: float, csat: int, topic: str, product: str
) -> None:
    """The post-support survey by email: effort follows how long it took, satisfaction is the
    story's; a hard contact (effort 3 or less) says what went wrong, one in two."""
    rng = ask_rng(life, trigger)
    ces = max(1, min(7, round(csat * 1.3 + rng.gauss(0, 0.8)) - (2 if hours > 48 else 0)))
    answered = None
    comment = None
    if rng.random() < 0.85:
        answered = resolved + timedelta(minutes=30 + rng.uniform(0, 180))
        if ces <= 3 and rng.random() < 0.5:
            comment = feedback_text(rng, life.c.lang, topic, "neg", product, long=False)
    life.ask(
        Ask(
            "support",
            life.c.user_id,
            life.c.lang,
            "email",
            resolved + timedelta(minutes=10),
            answered,
            {"ces": ces, "csat": csat} if answered else {},
            comment,
            trigger,
            "Ticket Resolved",
        )
    )


def delivery_survey(
    life: Life, trigger: str, delivered: datetime, late: bool, damaged: bool, product: str
) -> None:
    """Half the deliveries bring a satisfaction text message two hours later (the delivery
    survey's trigger); about two in five answer it, late or damaged orders with low stars."""
    rng = ask_rng(life, trigger)
    if rng.random() >= 0.5:
        return
    sent = delivered + timedelta(hours=2)
    if rng.random() >= 0.42:
        life.ask(Ask("delivery", life.c.user_id, life.c.lang, "sms", sent, None, {}, None,
                     trigger, "Order Delivered"))  # fmt: skip
        return
    if damaged:
        csat = rng.choice((1, 1, 2))
    elif late:
        csat = rng.choice((1, 2, 2, 3))
    else:
        csat = max(1, min(5, round(4.3 + life.c.mood * 0.3 + rng.gauss(0, 0.7))))
    comment = None
    if rng.random() < 0.5:
        sentiment = "neg" if csat <= 2 else "neu" if csat == 3 else "pos"
        topic = "quality" if damaged else "delivery" if late or rng.random() < 0.6 else "price"
        comment = feedback_text(rng, life.c.lang, topic, sentiment, product, long=False)
    answered = sent + timedelta(hours=rng.uniform(0.1, 20))
    life.ask(Ask("delivery", life.c.user_id, life.c.lang, "sms", sent, answered,
                 {"csat": csat}, comment, trigger, "Order Delivered"))  # fmt: skip


def _chat(life: Life, t: datetime, problem: str, topic: str, oid: str, product: str) -> str:
    """The customer opens a chat and explains; returns the channel."""
    rng, c, emit = life.rng, life.c, life.emit
    lang = c.lang
    emit(
        "track",
        t,
        "chat",
        user=c.user_id,
        event="Chat Started",
        properties={"order_id": oid},
    )
    line = rng.choice(CHAT_OPENERS[lang][problem])
    emit(
        "track",
        t + timedelta(seconds=15),
        "chat",
        user=c.user_id,
        event="Chat Message",
        properties={"order_id": oid, "text": line, "author": "customer", "language": lang},
    )
    detail = feedback_text(rng, lang, topic, "neg", product, long=False)
    emit(
        "track",
        t + timedelta(seconds=70),
        "chat",
        user=c.user_id,
        event="Chat Message",
        properties={
            "order_id": oid,
            "text": detail,
            "author": "customer",
            "language": lang,
        },
    )
    return "chat"


def _call(life: Life, t: datetime, problem: str, oid: str) -> str:
    """The customer goes through the phone menu and talks to an agent; returns the channel."""
    rng, c, emit = life.rng, life.c, life.emit
    emit(
        "track",
        t,
        "voice",
        user=c.user_id,
        event="IVR Menu Selected",
        properties={"menu": "orders", "option": problem},
        context={"traits": {"phone": c.phone}},
    )
    wait = rng.uniform(20, 1800)
    emit(
        "track",
        t + timedelta(seconds=wait),
        "phone",
        user=c.user_id,
        event="Call Completed",
        properties={
            "order_id": oid,
            "reason": problem,
            "wait_seconds": round(wait),
            "duration_seconds": round(rng.uniform(60, 900)),
            "agent": f"agent-{rng.randrange(1, 12)}",
        },
        context={"traits": {"phone": c.phone}},
    )
    return "phone"


def review(life: Life, t: datetime, problem: str | None, oid: str, product: str) -> None:
    rng = life.rng
    if problem:
        topic = {"late": "delivery", "damaged": "quality", "payment": "payment"}[problem]
        sentiment = "neg" if rng.random() < 0.85 else "neu"
    else:
        topic = rng.choice(TOPICS)
        roll = rng.random()
        sentiment = "pos" if roll < 0.72 else "neu" if roll < 0.88 else "neg"
    rating = {"neg": rng.choice((1, 1, 2)), "neu": 3, "pos": rng.choice((4, 5, 5))}[sentiment]
    text = feedback_text(rng, life.c.lang, topic, sentiment, product, long=rng.random() < 0.6)
    ch = rng.choice(("app", "web", "email"))
    life.emit(
        "track",
        t,
        ch,
        user=life.c.user_id,
        event="Review Submitted",
        properties={
            "order_id": oid,
            "rating": rating,
            "text": text,
            "language": life.c.lang,
            "topic": topic,
            "product": product,
        },
    )


def survey(life: Life, t: datetime) -> None:
    """The NPS survey by email and, two times in three, its answer with a comment, seven in
    ten; the score follows the customer's mood."""
    rng, c = life.rng, life.c
    life.emit.skip()  # earlier versions' "Survey Sent" event
    if rng.random() < 0.35:
        life.ask(Ask("nps", c.user_id, c.lang, "email", t))
        return
    # Centred on 8.2: a shop most customers recommend (NPS about +20), that late deliveries sour.
    score = max(0, min(10, round(8.2 + c.mood * 1.3 + rng.gauss(0, 1.5))))
    sentiment = "pos" if score >= 9 else "neu" if score >= 7 else "neg"
    comment = None
    if rng.random() < 0.7:
        topic = rng.choice(TOPICS)
        comment = feedback_text(rng, c.lang, topic, sentiment, "", long=True).replace("  ", " ")
    answered = t + timedelta(hours=rng.uniform(0.5, 48))
    life.emit.skip()  # and its survey_answered event
    life.ask(Ask("nps", c.user_id, c.lang, "email", t, answered, {"nps": score}, comment))


def social(life: Life, t: datetime) -> None:
    """A post by the customer's Instagram handle, tied to them through that handle."""
    rng, c = life.rng, life.c
    sentiment = "pos" if c.mood >= 0.5 else "neg" if c.mood < -0.5 else "neu"
    _, pname, _, _ = life.product()
    text = feedback_text(rng, c.lang, rng.choice(TOPICS), sentiment, pname, long=True)
    life.emit(
        "track",
        t,
        "social",
        anon=f"instagram:{c.instagram}",
        event="Social Post",
        properties={
            "platform": "instagram",
            "text": text,
            "language": c.lang,
            "likes": rng.randrange(0, 300),
        },
        context={"traits": {"instagram": c.instagram}},
    )
