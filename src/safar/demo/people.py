"""Demo customers and the building blocks of their stories: ids, times, texts."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from safar.demo import catalog as cat
from safar.demo.texts import CLOSERS, FEEDBACK, OPENERS, TOPICS

HOUSEHOLD_BLOCK = 10  # customers 0-9, 10-19, ... may form households among themselves
DAYS = 180


@dataclass
class Customer:
    index: int
    user_id: str
    lang: str
    first: str
    last: str
    gender: str
    email: str
    phone: str
    city: str
    birthday: date
    anniversary: date | None
    instagram: str | None
    household: str | None = None
    household_name: str | None = None
    role: str | None = None
    mood: float = 0.0  # running experience: below zero means unhappy


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Emitter:
    """Builds the messages of one customer with deterministic ids.

    Messages later than ``until`` (the demo's "now") are dropped: a story runs on past the
    present (an order not delivered yet, a survey not sent yet) and only its past is stored.
    The sequence number still advances, so an event's id does not depend on what was dropped.
    """

    def __init__(
        self, seed: int, key: str, out: list[dict[str, Any]], until: datetime | None = None
    ) -> None:
        self.prefix = f"demo-{seed}-{key}-"
        self.n = 0
        self.out = out
        self.until = until

    def __call__(
        self,
        type_: str,
        when: datetime,
        channel: str,
        *,
        user: str | None = None,
        anon: str | None = None,
        event: str | None = None,
        name: str | None = None,
        properties: dict[str, Any] | None = None,
        traits: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        group: str | None = None,
    ) -> dict[str, Any]:
        self.n += 1
        msg: dict[str, Any] = {
            "type": type_,
            "messageId": f"{self.prefix}{self.n:04d}",
            "timestamp": iso(when),
            "context": {"channel": channel, **(context or {})},
        }
        if user:
            msg["userId"] = user
        if anon:
            msg["anonymousId"] = anon
        if event:
            msg["event"] = event
        if name:
            msg["name"] = name
        if properties:
            msg["properties"] = properties
        if traits:
            msg["traits"] = traits
        if group:
            msg["groupId"] = group
        if self.until is None or when <= self.until:
            self.out.append(msg)
        return msg

    def skip(self) -> None:
        """Use up one id without a message: where earlier versions emitted an event that is
        now written by a domain (survey answers), the customer's later ids stay as they were."""
        self.n += 1


def new_anon(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def daytime(rng: random.Random, day: datetime) -> datetime:
    """A moment of the customer's waking hours (Tehran is UTC+3:30)."""
    return day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        hours=rng.uniform(5, 19.5)
    )


def make_customer(seed: int, index: int, lang: str | None = None) -> Customer:
    rng = random.Random(f"safar-demo:{seed}:customer:{index}")
    drawn = "fa" if rng.random() < 0.68 else "en"
    lang = lang or drawn
    gender = rng.choice("fm")
    if lang == "fa":
        first = rng.choice(cat.FA_FIRST_F if gender == "f" else cat.FA_FIRST_M)
        li = rng.randrange(len(cat.FA_LAST))
        last, latin = cat.FA_LAST[li], cat.FA_LAST_LATIN[li]
        city = rng.choices(cat.FA_CITIES, weights=cat.FA_CITY_WEIGHTS)[0]
    else:
        first = rng.choice(cat.EN_FIRST_F if gender == "f" else cat.EN_FIRST_M)
        last = rng.choice(cat.EN_LAST)
        latin = last.lower()
        city = rng.choice(cat.EN_CITIES)
    domain = rng.choice(("gmail.com", "yahoo.com", "outlook.com", "chmail.ir", "mail.com"))
    email = f"{latin}.{index}.{seed}@{domain}"
    phone = f"+989{rng.randrange(10, 40)}{rng.randrange(1_000_000, 9_999_999)}"
    if lang == "en" and rng.random() < 0.5:
        phone = f"+1{rng.randrange(200, 999)}{rng.randrange(1_000_000, 9_999_999)}"
    birthday = date(rng.randrange(1955, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
    anniversary = (
        date(rng.randrange(1985, 2024), rng.randrange(1, 13), rng.randrange(1, 29))
        if rng.random() < 0.45
        else None
    )
    instagram = f"{latin}_{index}{seed}" if rng.random() < 0.3 else None
    return Customer(
        index=index,
        user_id=f"cus-{seed}-{index:05d}",
        lang=lang,
        first=first,
        last=last,
        gender=gender,
        email=email,
        phone=phone,
        city=city,
        birthday=birthday,
        anniversary=anniversary,
        instagram=instagram,
    )


def assign_households(seed: int, customers: list[Customer]) -> int:
    """Group some customers of each block into households sharing a surname and a city."""
    count = 0
    for start in range(0, len(customers), HOUSEHOLD_BLOCK):
        rng = random.Random(f"safar-demo:{seed}:households:{start}")
        block = customers[start : start + HOUSEHOLD_BLOCK]
        pool = [c for c in block if rng.random() < 0.4]
        while len(pool) >= 2:
            size = min(len(pool), rng.choice((2, 2, 3, 4)))
            members, pool = pool[:size], pool[size:]
            head = members[0]
            gid = f"hh-{seed}-{head.index:05d}"
            name = f"خانواده‌ی {head.last}" if head.lang == "fa" else f"The {head.last} family"
            for pos, member in enumerate(members):
                member.household, member.household_name = gid, name
                member.role = cat.HOUSEHOLD_ROLES[min(pos, 3)] if pos else "head"
                member.last, member.city, member.lang = head.last, head.city, head.lang
            count += 1
    return count


def feedback_text(
    rng: random.Random, lang: str, topic: str, sentiment: str, product: str, long: bool
) -> str:
    """Compose a review or comment from the hand-written sentences."""
    main = rng.choice(FEEDBACK[lang][topic][sentiment]).replace("{product}", product)
    parts = [main]
    if long:
        if rng.random() < 0.6:
            parts.insert(0, rng.choice(OPENERS[lang][sentiment]))
        if rng.random() < 0.5:
            other = rng.choice([t for t in TOPICS if t != topic])
            extra = rng.choice(FEEDBACK[lang][other][sentiment]).replace("{product}", product)
            parts.append(extra)
        if rng.random() < 0.5:
            parts.append(rng.choice(CLOSERS[lang][sentiment]))
    return " ".join(parts)
