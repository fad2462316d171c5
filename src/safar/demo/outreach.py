"""What the shop sends a demo customer: campaigns by email, SMS and push, birthday vouchers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from safar.demo import catalog as cat

if TYPE_CHECKING:
    from safar.demo.story import Life


def campaigns(life: Life, t: datetime) -> None:
    """Marketing every few weeks from sign-up on, then a birthday voucher in the period."""
    rng, c = life.rng, life.c
    when = t
    while True:
        when += timedelta(days=rng.uniform(9, 30))
        if when >= life.end:
            break
        # Seasonal campaigns only in their season (Nowruz in March, Yalda in December).
        season = [
            camp
            for camp in cat.CAMPAIGNS
            if (camp[0] != "nowruz_sale" or when.month in (2, 3))
            and (camp[0] != "yalda_offer" or when.month == 12)
        ]
        key, fa, en = rng.choice(season)
        props = {"campaign": key, "subject": fa if c.lang == "fa" else en}
        kind = rng.choice(("email", "email", "sms", "push"))
        _SENDERS[kind](life, when, props)
    _birthday(life, t)


def _email(life: Life, when: datetime, props: dict[str, Any]) -> None:
    """Sent, sometimes opened, now and then clicked."""
    rng, c, emit = life.rng, life.c, life.emit
    emit("track", when, "email", user=c.user_id, event="Email Sent", properties=props)
    if rng.random() < 0.45:
        emit(
            "track",
            when + timedelta(hours=rng.uniform(0.2, 30)),
            "email",
            user=c.user_id,
            event="Email Opened",
            properties=props,
        )
        if rng.random() < 0.3:
            emit(
                "track",
                when + timedelta(hours=31),
                "email",
                user=c.user_id,
                event="Email Link Clicked",
                properties={**props, "url": "https://shop.example/deals"},
            )


def _sms(life: Life, when: datetime, props: dict[str, Any]) -> None:
    """Sent, rarely clicked."""
    rng, c, emit = life.rng, life.c, life.emit
    emit("track", when, "sms", user=c.user_id, event="SMS Sent", properties=props)
    if rng.random() < 0.15:
        emit(
            "track",
            when + timedelta(minutes=rng.uniform(1, 120)),
            "sms",
            user=c.user_id,
            event="SMS Link Clicked",
            properties=props,
        )


def _push(life: Life, when: datetime, props: dict[str, Any]) -> None:
    """Sent to the app, sometimes opened."""
    rng, c, emit = life.rng, life.c, life.emit
    emit(
        "track",
        when,
        "app",
        user=c.user_id,
        event="Push Sent",
        properties=props,
        context=life.app_ctx(),
    )
    if rng.random() < 0.3:
        emit(
            "track",
            when + timedelta(minutes=rng.uniform(1, 300)),
            "app",
            user=c.user_id,
            event="Push Opened",
            properties=props,
            context=life.app_ctx(),
        )


def _birthday(life: Life, t: datetime) -> None:
    """A greeting with a voucher when the birthday falls inside the period."""
    c, emit = life.c, life.emit
    for year in (life.end.year - 1, life.end.year):
        try:
            bday = datetime(year, c.birthday.month, c.birthday.day, 6, tzinfo=UTC)
        except ValueError:
            continue
        if t < bday < life.end:
            emit(
                "track",
                bday,
                "sms",
                user=c.user_id,
                event="SMS Sent",
                properties={"template": "birthday_voucher", "voucher": f"BDAY-{c.index}"},
            )


_SENDERS: dict[str, Callable[[Life, datetime, dict[str, Any]], None]] = {
    "email": _email,
    "sms": _sms,
    "push": _push,
}
