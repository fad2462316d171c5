"""Build the demo from real public data in the user's folder (``safar demo --real-data DIR``).

Real facts, synthesized touchpoints around them:
- Olist orders (olist/olist_classified_public_dataset.csv): purchase, approval, promised and
  actual delivery times and the customer's real review (Portuguese), around which web visits,
  a login, confirmation emails, delay texts and support tickets are synthesized.
- SnappFood comments (persian/snappfood_comments.csv.gz): real Persian food-delivery reviews
  grouped by the real (anonymous) customer id, with app sessions, orders and deliveries
  synthesized before each comment.
- Airline tweets (english/twitter_airline_sentiment.csv): real complaints and praise on social
  media by handle; some handles also sign in (a loyalty login), which merges the profiles, and
  some negative tweets are followed by a synthesized phone call.

These sets are licensed for non-commercial use: they are read here, at run time, from the
folder the user names, and never copied into the package.
"""

from __future__ import annotations

import csv
import gzip
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from safar.demo.generator import Customer, DemoData, Emitter, make_customer
from safar.errors import NotFound

OLIST = Path("olist/olist_classified_public_dataset.csv")
SNAPPFOOD = Path("persian/snappfood_comments.csv.gz")
TWEETS = Path("english/twitter_airline_sentiment.csv")


def _when(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    value = text.strip()
    for parse in (
        datetime.fromisoformat,
        lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M:%S %z"),
    ):
        try:
            ts = parse(value)
        except ValueError:
            continue
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return None


def _anon(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sample(rng: random.Random, items: list[Any], k: int) -> list[Any]:
    return items if len(items) <= k else rng.sample(items, k)


def _olist(
    path: Path, seed: int, limit: int, out: list[dict[str, Any]], people: list[Customer]
) -> int:
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if _when(r.get("order_purchase_timestamp"))]
    rng = random.Random(f"safar-real:{seed}:olist")
    chosen = _sample(rng, rows, limit)
    for r in chosen:
        _olist_order(r, rng, seed, out, people)
    return len(chosen)


def _olist_order(
    r: dict[str, str],
    rng: random.Random,
    seed: int,
    out: list[dict[str, Any]],
    people: list[Customer],
) -> None:
    """One Olist order: browsing, sign-in and purchase, then delivery, then its review."""
    oid = f"olist-{r['id']}"
    c = make_customer(seed, 100_000 + int(r["id"]))
    c.user_id, c.lang, c.city = f"olist-customer-{r['id']}", "pt", r["customer_city"]
    people.append(c)
    emit = Emitter(seed, f"olist{r['id']}", out)
    bought = _when(r["order_purchase_timestamp"])
    assert bought is not None
    anon = _anon(rng)
    t = bought - timedelta(minutes=rng.uniform(5, 40))
    for _ in range(rng.randint(1, 4)):
        t += timedelta(seconds=rng.uniform(10, 200))
        emit(
            "page",
            t,
            "web",
            anon=anon,
            name="Product",
            properties={"path": "/p/" + r["product_category_name"]},
        )
    emit(
        "identify",
        bought - timedelta(minutes=2),
        "web",
        user=c.user_id,
        anon=anon,
        traits={
            "city": r["customer_city"],
            "state": r["customer_state"],
            "country": "BR",
            "language": "pt",
            "email": c.email,
        },
    )
    value = float(r["order_products_value"] or 0)
    props = {
        "order_id": oid,
        "category": r["product_category_name"],
        "total": value,
        "freight": float(r["order_freight_value"] or 0),
        "items": int(r["order_items_qty"] or 1),
        "currency": "BRL",
    }
    emit("track", bought, "web", user=c.user_id, event="Order Completed", properties=props)
    emit(
        "track",
        bought + timedelta(minutes=1),
        "email",
        user=c.user_id,
        event="Email Sent",
        properties={"template": "order_confirmation", "order_id": oid},
    )
    late = _olist_delivery(r, oid, c.user_id, emit)
    _olist_review(r, rng, oid, c.user_id, emit, late=late)


def _olist_delivery(r: dict[str, str], oid: str, user: str, emit: Emitter) -> bool:
    """Payment approval, delay notice and delivery as the dataset dates them; True if late."""
    approved = _when(r["order_aproved_at"])
    if approved:
        emit(
            "track",
            approved,
            "other",
            user=user,
            event="Payment Approved",
            properties={"order_id": oid},
        )
    promised = _when(r["order_estimated_delivery_date"])
    delivered = _when(r["order_delivered_customer_date"])
    late = bool(promised and delivered and delivered > promised)
    if late and promised:
        emit(
            "track",
            promised,
            "sms",
            user=user,
            event="SMS Sent",
            properties={"template": "delivery_delay_notice", "order_id": oid},
        )
    if delivered:
        emit(
            "track",
            delivered,
            "other",
            user=user,
            event="Order Delivered",
            properties={
                "order_id": oid,
                "late": late,
                "status": r["order_status"],
                "promised_at": promised.isoformat() if promised else None,
            },
        )
    return late


def _olist_review(
    r: dict[str, str], rng: random.Random, oid: str, user: str, emit: Emitter, *, late: bool
) -> None:
    """The order's real review, after a support ticket for some late or unhappy orders."""
    reviewed = _when(r["review_answer_timestamp"]) or _when(r["review_creation_date"])
    problem = r.get("most_voted_class") not in (None, "", "satisfeito_com_pedido")
    if reviewed and (late or problem) and rng.random() < 0.5:
        opened = reviewed - timedelta(hours=rng.uniform(2, 30))
        channel = rng.choice(("chat", "phone"))
        emit(
            "track",
            opened,
            channel,
            user=user,
            event="Ticket Opened",
            properties={
                "ticket_id": f"tkt-{oid}",
                "order_id": oid,
                "topic": r["most_voted_class"],
            },
        )
        emit(
            "track",
            opened + timedelta(hours=rng.uniform(1, 48)),
            channel,
            user=user,
            event="Ticket Resolved",
            properties={"ticket_id": f"tkt-{oid}", "order_id": oid},
        )
    if reviewed:
        text = " ".join(x for x in (r["review_comment_title"], r["review_comment_message"]) if x)
        emit(
            "track",
            reviewed,
            "email",
            user=user,
            event="Review Submitted",
            properties={
                "order_id": oid,
                "rating": int(float(r["review_score"] or 0)),
                "text": text,
                "language": "pt",
                "class": r["most_voted_class"],
                "source_dataset": "olist",
            },
        )


def _snappfood(
    path: Path, seed: int, limit: int, out: list[dict[str, Any]], people: list[Customer]
) -> int:
    by_customer: dict[str, list[dict[str, str]]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r.get("customer_id") and r.get("comment_text") and _when(r.get("created_date")):
                by_customer[r["customer_id"]].append(r)
    rng = random.Random(f"safar-real:{seed}:snappfood")
    chosen = _sample(rng, sorted(by_customer), limit)
    for n, cid in enumerate(chosen):
        _snappfood_customer(n, by_customer[cid], cid, rng, seed, out, people)
    return len(chosen)


def _snappfood_customer(
    n: int,
    rows: list[dict[str, str]],
    cid: str,
    rng: random.Random,
    seed: int,
    out: list[dict[str, Any]],
    people: list[Customer],
) -> None:
    """A SnappFood customer signing in on the app, then an order per real comment."""
    c = make_customer(seed, 200_000 + n, lang="fa")
    c.user_id = f"snappfood-{cid}"
    people.append(c)
    emit = Emitter(seed, f"sf{cid}", out)
    comments = sorted(rows, key=lambda r: r["created_date"])
    device = _anon(rng)
    ctx = {"device": {"id": device, "type": "android"}}
    first = _when(comments[0]["created_date"])
    assert first is not None
    anon = _anon(rng)
    t = first - timedelta(hours=rng.uniform(1.5, 3))
    emit("screen", t, "app", anon=anon, name="Home", context=ctx)
    emit(
        "identify",
        t + timedelta(minutes=1),
        "app",
        user=c.user_id,
        anon=anon,
        context=ctx,
        traits={
            "name": f"{c.first} {c.last}",
            "firstName": c.first,
            "lastName": c.last,
            "phone": c.phone,
            "language": "fa",
            "city": "تهران",
            "birthday": c.birthday.isoformat(),
        },
    )
    for r in comments:
        _snappfood_comment(r, rng, c.user_id, ctx, emit)


def _snappfood_comment(
    r: dict[str, str], rng: random.Random, user: str, ctx: dict[str, Any], emit: Emitter
) -> None:
    """The order a comment is about (ordered, confirmed, delivered) and the comment itself."""
    said = _when(r["created_date"])
    assert said is not None
    oid = f"sf-order-{r['comment_id']}"
    ordered = said - timedelta(hours=rng.uniform(1, 3))
    emit(
        "track",
        ordered,
        "app",
        user=user,
        event="Order Completed",
        context=ctx,
        properties={
            "order_id": oid,
            "vendor": r["vendor_code"],
            "items": r["foods"],
            "expedition": r["expedition_type"],
            "currency": "IRT",
        },
    )
    emit(
        "track",
        ordered + timedelta(seconds=30),
        "sms",
        user=user,
        event="SMS Sent",
        properties={"template": "order_confirmation", "order_id": oid},
    )
    emit(
        "track",
        ordered + timedelta(minutes=rng.uniform(25, 75)),
        "other",
        user=user,
        event="Order Delivered",
        properties={"order_id": oid},
    )
    rating = int(float(r["rating"] or r["rate"] or 0))
    emit(
        "track",
        said,
        "app",
        user=user,
        event="Review Submitted",
        context=ctx,
        properties={
            "order_id": oid,
            "rating": rating,
            "scale": 10,
            "text": r["comment_text"],
            "feeling": r["feeling"],
            "language": "fa",
            "source_dataset": "snappfood",
        },
    )
    if r["feeling"] == "SAD" and rng.random() < 0.3:
        emit(
            "track",
            said + timedelta(minutes=rng.uniform(5, 90)),
            "chat",
            user=user,
            event="Ticket Opened",
            properties={"ticket_id": f"tkt-{oid}", "order_id": oid},
        )


def _tweets(
    path: Path, seed: int, limit: int, out: list[dict[str, Any]], people: list[Customer]
) -> int:
    by_handle: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r.get("name") and r.get("text") and _when(r.get("tweet_created")):
                by_handle[r["name"]].append(r)
    rng = random.Random(f"safar-real:{seed}:tweets")
    chosen = _sample(rng, sorted(by_handle), limit)
    for handle in chosen:
        _tweets_handle(handle, by_handle[handle], rng, seed, out, people)
    return len(chosen)


def _tweets_handle(
    handle: str,
    rows: list[dict[str, str]],
    rng: random.Random,
    seed: int,
    out: list[dict[str, Any]],
    people: list[Customer],
) -> None:
    """A Twitter handle's real tweets; some handles also sign in to a loyalty programme."""
    emit = Emitter(seed, f"tw{handle}", out)
    tweets = sorted(rows, key=lambda r: r["tweet_created"])
    first = _when(tweets[0]["tweet_created"])
    assert first is not None
    anon = f"twitter:{handle.lower()}"
    social_ctx = {"traits": {"twitter": handle}}
    if rng.random() < 0.4:
        # A loyalty-programme login that names the same handle: profiles merge on it.
        user = f"flyer-{handle.lower()}"
        emit(
            "identify",
            first - timedelta(days=rng.uniform(1, 20)),
            "web",
            user=user,
            anon=_anon(rng),
            traits={"twitter": handle, "language": "en"},
        )
        c = make_customer(seed, 300_000 + len(people))
        c.user_id, c.lang = user, "en"
        people.append(c)
    for r in tweets:
        _tweet(r, rng, anon, social_ctx, emit)


def _tweet(
    r: dict[str, str], rng: random.Random, anon: str, social_ctx: dict[str, Any], emit: Emitter
) -> None:
    """One tweet as a social post, and now and then the phone call a complaint leads to."""
    when = _when(r["tweet_created"])
    assert when is not None
    emit(
        "track",
        when,
        "social",
        anon=anon,
        event="Social Post",
        context=social_ctx,
        properties={
            "platform": "twitter",
            "text": r["text"],
            "airline": r["airline"],
            "sentiment": r["airline_sentiment"],
            "reason": r["negativereason"] or None,
            "language": "en",
            "source_dataset": "twitter_airline_sentiment",
        },
    )
    if r["airline_sentiment"] == "negative" and rng.random() < 0.2:
        emit(
            "track",
            when + timedelta(hours=rng.uniform(1, 24)),
            "phone",
            anon=anon,
            context=social_ctx,
            event="Call Completed",
            properties={
                "reason": r["negativereason"] or "other",
                "airline": r["airline"],
                "duration_seconds": round(rng.uniform(120, 1500)),
            },
        )


def build_real(folder: Path, *, seed: int, customers: int) -> tuple[DemoData, list[str]]:
    """Messages built from whichever of the three sets the folder holds."""
    out: list[dict[str, Any]] = []
    people: list[Customer] = []
    sources: list[str] = []
    if (folder / OLIST).exists():
        n = _olist(folder / OLIST, seed, customers, out, people)
        sources.append(f"{n} Olist orders with their real reviews (CC BY-NC-SA 4.0)")
    if (folder / SNAPPFOOD).exists():
        n = _snappfood(folder / SNAPPFOOD, seed, customers, out, people)
        sources.append(f"{n} SnappFood customers' real Persian comments")
    if (folder / TWEETS).exists():
        n = _tweets(folder / TWEETS, seed, customers, out, people)
        sources.append(f"{n} Twitter handles' real airline tweets (CC BY-NC-SA 4.0)")
    if not sources:
        raise NotFound(
            f"--real-data: none of {OLIST}, {SNAPPFOOD}, {TWEETS} found under {folder}",
            field="real_data",
        )
    out.sort(key=lambda m: (m["timestamp"], m["messageId"]))
    counts: dict[str, int] = {}
    events_of: dict[str, int] = defaultdict(int)
    for m in out:
        ch = m["context"]["channel"]
        counts[ch] = counts.get(ch, 0) + 1
        if m.get("userId"):
            events_of[m["userId"]] += 1
    showcase = max(sorted(events_of), key=lambda u: (u.startswith("snappfood"), events_of[u]))
    return DemoData(out, people, 0, 0, showcase, counts), sources
