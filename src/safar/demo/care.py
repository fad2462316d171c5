"""What a demo customer says: support contacts, reviews, survey answers and social posts.

Each follows the customer's experience and mood (see ``story.Life``): a late order brings a
chat or a call and an angry review, a smooth one praise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from safar.demo.people import feedback_text
from safar.demo.texts import CHAT_OPENERS, TOPICS

if TYPE_CHECKING:
    from safar.demo.story import Life

#: Answers carry the event and score fields of Safar's own surveys (``safar.surveys``): ``nps``
#: 0-10, ``csat`` 1-5, one field per scale, so the journeys' key drivers and emotion curve read
#: them as they are.
SURVEY_EVENT = "survey_answered"


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
    emit(
        "track",
        resolved,
        channel,
        user=c.user_id,
        event="Ticket Resolved",
        properties={"ticket_id": ticket, "order_id": oid, "hours_to_resolve": round(hours, 1)},
    )
    emit(
        "track",
        resolved + timedelta(minutes=30),
        "email",
        user=c.user_id,
        event=SURVEY_EVENT,
        properties={"survey": "csat", "ticket_id": ticket, "csat": csat},
    )
    return resolved


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
    """An NPS survey and, two times in three, its answer (0-10 under ``nps``) with a comment."""
    rng, c = life.rng, life.c
    life.emit(
        "track", t, "email", user=c.user_id, event="Survey Sent", properties={"survey": "nps"}
    )
    if rng.random() < 0.35:
        return
    score = max(0, min(10, round(7.5 + c.mood * 1.3 + rng.gauss(0, 1.5))))
    sentiment = "pos" if score >= 9 else "neu" if score >= 7 else "neg"
    props: dict[str, Any] = {"survey": "nps", "nps": score, "language": c.lang}
    if rng.random() < 0.7:
        topic = rng.choice(TOPICS)
        props["text"] = feedback_text(rng, c.lang, topic, sentiment, "", long=True).replace(
            "  ", " "
        )
        props["topic"] = topic
    life.emit(
        "track",
        t + timedelta(hours=rng.uniform(0.5, 48)),
        "web",
        user=c.user_id,
        event=SURVEY_EVENT,
        properties=props,
    )


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
