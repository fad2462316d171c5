"""What happens to one demo customer over the period: visits, orders, support, feedback.

Experiences drive feedback: a late delivery tends to bring a chat or a call and an angry
review, a smooth one praise; survey scores and social posts follow the customer's mood.
What the customer says lives in ``care``, what the shop sends them in ``outreach``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from safar.demo import care, outreach
from safar.demo import catalog as cat
from safar.demo.care import Ask
from safar.demo.people import DAYS, Customer, Emitter, daytime, feedback_text, iso, new_anon
from safar.demo.texts import TOPICS


class Life:
    """Everything that happens to one customer over the demo period."""

    def __init__(
        self,
        seed: int,
        c: Customer,
        end: datetime,
        out: list[dict[str, Any]],
        asks: list[Ask] | None = None,
    ) -> None:
        self.seed = seed
        self.c = c
        self.end = end
        self.asks: list[Ask] = [] if asks is None else asks
        self.rng = random.Random(f"safar-demo:{seed}:life:{c.index}")
        self.emit = Emitter(seed, f"c{c.index}", out, until=end)
        self.anon = new_anon(self.rng)
        self.device = new_anon(self.rng)
        self.platform = self.rng.choice(("ios", "android"))
        self.order_no = 0

    # -- helpers ---------------------------------------------------------------------------
    def ask(self, ask: Ask) -> None:
        """Keep a survey invitation that is not after the demo's "now" (nor its answer)."""
        keep(self.asks, ask, self.end)

    def product(self) -> tuple[str, str, str, int]:
        sku, fa, en, category, price = self.rng.choice(cat.PRODUCTS)
        return sku, fa if self.c.lang == "fa" else en, category, price

    def app_ctx(self) -> dict[str, Any]:
        return {"device": {"id": self.device, "type": self.platform}, "os": {"name": self.platform}}

    def profile_traits(self) -> dict[str, Any]:
        c = self.c
        traits: dict[str, Any] = {
            "firstName": c.first,
            "lastName": c.last,
            "name": f"{c.first} {c.last}",
            "email": c.email,
            "phone": c.phone,
            "city": c.city,
            "language": c.lang,
            "gender": c.gender,
            "birthday": c.birthday.isoformat(),
        }
        if c.anniversary:
            traits["anniversary"] = c.anniversary.isoformat()
        if c.instagram:
            traits["instagram"] = c.instagram
        return traits

    # -- the story -------------------------------------------------------------------------
    def run(self) -> None:
        rng, c = self.rng, self.c
        t = self.sign_up()
        # Later the same person opens the app on a phone: a second anonymous id, merged on login.
        if rng.random() < 0.7:
            self.second_device(t)
        if c.household:
            self.emit(
                "group",
                t + timedelta(minutes=5),
                "web",
                user=c.user_id,
                group=c.household,
                traits={"type": "household", "name": c.household_name, "city": c.city},
                context={"role": c.role},
            )
        day = t
        for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(25, 30, 22, 14, 9))[0]):
            day += timedelta(days=rng.uniform(3, 35))
            if day > self.end - timedelta(days=2):
                break
            self.order(daytime(rng, day))
        outreach.campaigns(self, t)
        if rng.random() < 0.25:
            self.store_visit(daytime(rng, t + timedelta(days=rng.uniform(5, 100))))
        # An NPS survey some time after sign-up, always inside the period (none lost to "now").
        since = (self.end - t).total_seconds() / 86400
        if rng.random() < 0.6 and since > 8:
            care.survey(self, daytime(rng, t + timedelta(days=rng.uniform(7, since - 1))))
        if c.instagram and rng.random() < 0.8:
            care.social(self, daytime(rng, t + timedelta(days=rng.uniform(10, 150))))

    def sign_up(self) -> datetime:
        """Anonymous browsing on the web, then a login that ties the visits to the customer."""
        rng, c = self.rng, self.c
        start = self.end - timedelta(days=rng.uniform(30, DAYS))
        t = daytime(rng, start)
        t = self.browse(t, anon=self.anon, user=None, pages=rng.randint(2, 6))
        t += timedelta(minutes=rng.uniform(1, 20))
        consent = {"categoryPreferences": {"marketing": rng.random() < 0.7, "analytics": True}}
        self.emit(
            "identify",
            t,
            "web",
            user=c.user_id,
            anon=self.anon,
            traits=self.profile_traits(),
            context={"consent": consent},
        )
        return t

    def second_device(self, signed_up: datetime) -> None:
        """App screens under a new anonymous id some days after sign-up, then a login there."""
        rng, c = self.rng, self.c
        app_anon = new_anon(rng)
        t = signed_up + timedelta(days=rng.uniform(1, 20))
        for _ in range(rng.randint(1, 4)):
            t += timedelta(seconds=rng.uniform(10, 120))
            self.emit(
                "screen",
                t,
                "app",
                anon=app_anon,
                name=rng.choice(("Home", "Search", "Deals", "Product")),
                context=self.app_ctx(),
            )
        self.emit(
            "identify",
            t + timedelta(seconds=30),
            "app",
            user=c.user_id,
            anon=app_anon,
            traits={"email": c.email, "language": c.lang},
            context=self.app_ctx(),
        )

    def browse(self, t: datetime, *, anon: str, user: str | None, pages: int) -> datetime:
        for _ in range(pages):
            t += timedelta(seconds=self.rng.uniform(8, 150))
            title, path = self.rng.choice(cat.PAGES)
            if title == "Product":
                path += self.rng.choice(cat.PRODUCTS)[0].lower()
            self.emit(
                "page",
                t,
                "web",
                user=user,
                anon=anon,
                name=title,
                properties={"path": path, "url": f"https://shop.example{path}"},
                context={"locale": "fa-IR" if self.c.lang == "fa" else "en-GB"},
            )
        return t

    def order(self, t: datetime) -> None:
        """An order from browsing to delivery; problems sour the mood and bring feedback."""
        rng, c = self.rng, self.c
        self.order_no += 1
        oid = f"ord-{self.seed}-{c.index:05d}-{self.order_no}"
        t, pname, pay_issue = self.checkout(t, oid)
        delivered, late, damaged = self.deliver(t, oid, pname)
        c.mood += -1.5 if late else 0.4
        c.mood += -1.5 if damaged else 0.0
        c.mood += -0.8 if pay_issue else 0.0
        problem = "late" if late else "damaged" if damaged else "payment" if pay_issue else None
        after = delivered + timedelta(hours=rng.uniform(1, 48))
        if problem and rng.random() < 0.7:
            after = care.support(self, after, problem, oid, pname)
        if rng.random() < (0.75 if problem else 0.4):
            care.review(self, after + timedelta(hours=rng.uniform(1, 72)), problem, oid, pname)

    def checkout(self, t: datetime, oid: str) -> tuple[datetime, str, bool]:
        """View, add to cart, pay (sometimes failing once), confirm: (time, product, failed)."""
        rng, c, emit = self.rng, self.c, self.emit
        sku, pname, category, price = self.product()
        qty = rng.choice((1, 1, 1, 2, 3))
        on_app = rng.random() < 0.55
        ch = "app" if on_app else "web"
        ctx = self.app_ctx() if on_app else {}
        if not on_app:
            t = self.browse(t, anon=self.anon, user=c.user_id, pages=rng.randint(1, 4))
        props = {"order_id": oid, "sku": sku, "product": pname, "category": category}
        emit("track", t, ch, user=c.user_id, event="Product Viewed", properties=props, context=ctx)
        t += timedelta(minutes=rng.uniform(1, 10))
        emit("track", t, ch, user=c.user_id, event="Product Added", properties=props, context=ctx)
        t += timedelta(minutes=rng.uniform(1, 15))
        total = price * qty * 1000
        payment = rng.choice(("card", "card", "wallet", "cash_on_delivery", "installments"))
        pay_issue = rng.random() < 0.06
        if pay_issue:
            emit(
                "track",
                t,
                ch,
                user=c.user_id,
                event="Payment Failed",
                properties={**props, "amount": total, "reason": "gateway_timeout"},
                context=ctx,
            )
            t += timedelta(minutes=rng.uniform(2, 30))
        order_props = {
            **props,
            "quantity": qty,
            "total": total,
            "currency": "IRT",
            "payment_method": payment,
            "city": c.city,
        }
        emit(
            "track",
            t,
            ch,
            user=c.user_id,
            event="Order Completed",
            properties=order_props,
            context=ctx,
        )
        emit(
            "track",
            t + timedelta(seconds=20),
            "email",
            user=c.user_id,
            event="Email Sent",
            properties={"template": "order_confirmation", "order_id": oid},
        )
        emit(
            "track",
            t + timedelta(seconds=25),
            "sms",
            user=c.user_id,
            event="SMS Sent",
            properties={"template": "order_confirmation", "order_id": oid},
        )
        return t, pname, pay_issue

    def deliver(self, t: datetime, oid: str, product: str) -> tuple[datetime, bool, bool]:
        """Shipping and delivery, late or damaged now and then: (delivered, late, damaged)."""
        rng, c, emit = self.rng, self.c, self.emit
        promised = t + timedelta(days=rng.choice((1, 2, 3, 4)))
        late = rng.random() < 0.16
        damaged = rng.random() < 0.07
        delay = (
            timedelta(hours=rng.uniform(20, 100)) if late else -timedelta(hours=rng.uniform(0, 20))
        )
        shipped = t + timedelta(hours=rng.uniform(3, 20))
        emit(
            "track",
            shipped,
            "other",
            user=c.user_id,
            event="Order Shipped",
            properties={"order_id": oid, "carrier": rng.choice(("SafarExpress", "Post", "Tipax"))},
        )
        delivered = max(promised + delay, shipped + timedelta(hours=2))
        if late:
            emit(
                "track",
                promised,
                "sms",
                user=c.user_id,
                event="SMS Sent",
                properties={"template": "delivery_delay_notice", "order_id": oid},
            )
        locker = rng.random() < 0.08
        done = emit(
            "track",
            delivered,
            "other",
            user=c.user_id,
            event="Order Delivered",
            properties={
                "order_id": oid,
                "promised_at": iso(promised),
                "late": late,
                "delay_hours": round(max(0.0, (delivered - promised).total_seconds() / 3600), 1),
                "damaged": damaged,
                "to_locker": locker,
            },
        )
        care.delivery_survey(self, done["messageId"], delivered, late, damaged, product)
        if locker:
            emit(
                "track",
                delivered + timedelta(hours=rng.uniform(1, 30)),
                "iot",
                user=c.user_id,
                event="Locker Pickup",
                properties={"order_id": oid, "locker": f"LK-{rng.randrange(100, 999)}"},
                context={
                    "device": {"id": f"locker-{rng.randrange(10, 60)}", "type": "smart_locker"}
                },
            )
        return delivered, late, damaged

    def store_visit(self, t: datetime) -> None:
        rng, c = self.rng, self.c
        sid, fa, en = rng.choice(cat.STORES)
        ctx = {"traits": {"phone": c.phone}}
        visit = self.emit(
            "track",
            t,
            "store",
            user=c.user_id,
            event="Store Visit",
            properties={"store_id": sid, "store": fa if c.lang == "fa" else en},
            context=ctx,
        )
        if rng.random() < 0.6:
            sku, pname, category, price = self.product()
            self.emit(
                "track",
                t + timedelta(minutes=rng.uniform(5, 40)),
                "store",
                user=c.user_id,
                event="Order Completed",
                context=ctx,
                properties={
                    "order_id": f"pos-{self.seed}-{c.index:05d}",
                    "sku": sku,
                    "product": pname,
                    "category": category,
                    "total": price * 1000,
                    "currency": "IRT",
                    "store_id": sid,
                },
            )
            # Every purchase brings the store survey by text an hour later; two in five answer.
            sent, answered, scores, text = t + timedelta(hours=1), None, {}, None
            if rng.random() < 0.4:
                sentiment = "pos" if c.mood >= 0 else "neg"
                text = feedback_text(rng, c.lang, "staff", sentiment, pname, long=True)
                answered, scores = t + timedelta(hours=2), {"csat": 5 if sentiment == "pos" else 2}
                self.emit.skip()  # earlier versions' survey_answered event
            self.ask(Ask("store", c.user_id, c.lang, "sms", sent, answered, scores, text,
                         visit["messageId"], "Store Visit"))  # fmt: skip


def visitor(seed: int, index: int, end: datetime, out: list[dict[str, Any]]) -> None:
    """Someone who browses and never signs in: an anonymous profile."""
    rng = random.Random(f"safar-demo:{seed}:visitor:{index}")
    emit = Emitter(seed, f"v{index}", out, until=end)
    anon = new_anon(rng)
    t = daytime(rng, end - timedelta(days=rng.uniform(1, DAYS)))
    for _ in range(rng.randint(1, 5)):
        t += timedelta(seconds=rng.uniform(5, 200))
        title, path = rng.choice(cat.PAGES)
        emit("page", t, "web", anon=anon, name=title, properties={"path": path})


def live_visitor(seed: int, end: datetime, out: list[dict[str, Any]]) -> None:
    """A visitor browsing right now: the demo's newest events, minutes before ``end``.

    Without it how recent the last event is would depend on the number of customers and the
    hour; with it "Latest activity" always opens on something from the last few minutes.
    """
    rng = random.Random(f"safar-demo:{seed}:live")
    emit = Emitter(seed, "live", out, until=end)
    anon = new_anon(rng)
    pages = rng.randint(2, 5)
    t = end - timedelta(minutes=rng.uniform(1, 8))
    steps = sorted((rng.uniform(8, 120) for _ in range(pages - 1)), reverse=True)
    times = [t - timedelta(seconds=sum(steps[i:])) for i in range(pages - 1)] + [t]
    for when in times:
        title, path = rng.choice(cat.PAGES)
        emit("page", when, "web", anon=anon, name=title, properties={"path": path})


def keep(asks: list[Ask], ask: Ask, end: datetime) -> None:
    """Add the ask in whole seconds, without what would come after ``end``."""
    ask.sent = ask.sent.replace(microsecond=0)
    if ask.sent > end:
        return
    if ask.answered is not None:
        ask.answered = ask.answered.replace(microsecond=0)
        if ask.answered > end or ask.answered < ask.sent:
            ask.answered, ask.scores, ask.comment = None, {}, None
    asks.append(ask)


def today(
    seed: int,
    people: list[Customer],
    end: datetime,
    out: list[dict[str, Any]],
    asks: list[Ask] | None = None,
) -> None:
    """What happened in the last hours, for the journeys to act on while the demo runs.

    About one customer in ten put something in the cart in the last six hours (half of them
    bought it within twenty minutes, the others left it: the abandoned-cart journey's
    reminders); one in thirty answered the NPS survey yesterday with a low score (the
    detractor recovery's apology). Each customer has its own random stream here, so the rest
    of the demo keeps its messageIds.
    """
    for c in people:
        rng = random.Random(f"safar-demo:{seed}:today:{c.index}")
        emit = Emitter(seed, f"t{c.index}", out, until=end)
        roll = rng.random()
        if roll < 0.10:
            sku, fa, en, category, price = rng.choice(cat.PRODUCTS)
            props = {"sku": sku, "product": fa if c.lang == "fa" else en, "category": category}
            t = end - timedelta(hours=rng.uniform(0.2, 6))
            emit("track", t, "web", user=c.user_id, event="Product Viewed", properties=props)
            t += timedelta(minutes=rng.uniform(1, 6))
            emit("track", t, "web", user=c.user_id, event="Product Added", properties=props)
            if rng.random() < 0.5:
                t += timedelta(minutes=rng.uniform(2, 20))
                order = {**props, "order_id": f"T-{seed}-{c.index}", "total": price * 1000}
                emit("track", t, "web", user=c.user_id, event="Order Completed", properties=order)
        elif roll < 0.133:
            t = end - timedelta(hours=rng.uniform(6, 30))
            score = rng.randint(1, 6)
            emit.skip()  # earlier versions' survey_answered event
            sent = t - timedelta(hours=rng.uniform(1, 20))
            comment = None
            if rng.random() < 0.6:
                topic = rng.choice(TOPICS)
                comment = feedback_text(rng, c.lang, topic, "neg", "", long=False)
            ask = Ask("nps", c.user_id, c.lang, "email", sent, t, {"nps": score}, comment)
            if asks is not None:
                keep(asks, ask, end)
