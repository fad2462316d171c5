"""Build a large, realistic data dir for `bench/pages.py` through Safar's own write paths.

Every event enters through ``Applier.apply`` (identity resolution, de-duplication, the DuckDB
insert, the trigger, journey and text-analysis hooks), exactly as the HTTP consumer and the
bulk importer store them; nothing is written into the stores behind Safar's back. What is built:

- "story" customers from the demo generator (``safar.demo``): sign-up, second device merged on
  login, households, orders with revenue, deliveries, support chats and calls, reviews,
  campaigns (email, SMS, push), store visits, NPS answers as events, social posts; plus
  anonymous visitors (one per four customers) and the last hours' carts and detractors;
- "contact" customers (a CRM list): an identify with the demo's traits and consent and one or
  two touches each, so profiles reach ``--profiles`` while events reach ``--events``;
- the demo's five journeys, published before the events (so recent events enter people);
- four segments (trait, event history, consent, all-of), refreshed once (the baseline);
- NPS and CSAT surveys with invitations and answers through the survey service, whose
  ``survey_answered`` events are stored by the scheduler's task, as in production;
- text analysis by the background worker on every text-bearing event while loading (texts the
  worker could not queue are counted and reported, not hidden).

Progress goes to stdout; ``build.json`` in the data dir records the figures and marks it done.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from safar.auth.service import create_user
from safar.config import Settings
from safar.demo import catalog as cat
from safar.demo.generator import LATEST_GAP
from safar.demo.journeys import install as install_journeys
from safar.demo.people import assign_households, daytime, iso, make_customer
from safar.demo.story import Life, today, visitor
from safar.errors import NotFound
from safar.events.messages import normalize, parse_message
from safar.events.rows import EventRow
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace

SEED = 7
CHUNK = 2_000  # story customers generated at a time
APPLY = 10_000  # events per Applier.apply (the consumer applies 5,000, the importer more)
ADMIN = ("admin@example.com", "bench-password")
#: Events per contact customer: the identify and, on average, one and a half touches.
CONTACT_EVENTS = 2.5
SEGMENTS: list[dict[str, Any]] = [
    {"name": "Tehran", "conditions": [{"kind": "trait", "key": "city", "value": "تهران"}]},
    {
        "name": "Repeat buyers (90 days)",
        "conditions": [
            {"kind": "event", "event": "Order Completed", "within_days": 90, "min_count": 2}
        ],
    },
    {"name": "Marketing consent", "conditions": [{"kind": "consent", "purpose": "marketing"}]},
    {
        "name": "English speakers who bought",
        "conditions": [
            {"kind": "trait", "key": "language", "value": "en"},
            {"kind": "event", "event": "Order Completed"},
        ],
    },
]


@dataclass
class Built:
    workspace_id: str = ""
    profiles_wanted: int = 0
    events_wanted: int = 0
    story_customers: int = 0
    contacts: int = 0
    messages: int = 0
    stored: int = 0
    texts_analysed: int = 0
    survey_responses: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    journeys: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    bytes_on_disk: dict[str, int] = field(default_factory=dict)
    anchor: str = ""
    done: bool = False


def log(msg: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {msg}", flush=True)


class Loader:
    """Normalises raw messages as the API does and applies them in consumer-sized batches."""

    def __init__(self, runtime: Runtime, workspace_id: str, built: Built) -> None:
        self.runtime, self.ws, self.built = runtime, workspace_id, built
        self.rows: list[EventRow] = []
        self.started = time.perf_counter()

    def add(self, messages: list[dict[str, Any]]) -> None:
        for raw in messages:
            msg = parse_message(raw)
            when = msg.timestamp or datetime.now(UTC)
            self.rows.append(normalize(msg, workspace_id=self.ws, received_at=when, source="bench"))
            if len(self.rows) >= APPLY:
                self.flush()

    def flush(self) -> None:
        if self.rows:
            result = self.runtime.applier.apply(self.rows)
            self.built.messages += len(self.rows)
            self.built.stored += result.inserted
            self.rows = []

    def progress(self, what: str) -> None:
        rate = self.built.messages / max(time.perf_counter() - self.started, 1e-9)
        log(f"{what}: {self.built.messages:,} events applied ({rate:,.0f}/s)")


def contact(index: int, end: datetime) -> list[dict[str, Any]]:
    """A CRM contact: identify (traits, consent) and one or two touches in the period."""
    c = make_customer(SEED, index)
    rng = random.Random(f"bench-pages:contact:{index}")
    t = daytime(rng, end - timedelta(days=rng.uniform(1, 180)))
    mid = f"bench-c{index}-"
    traits = {
        "name": f"{c.first} {c.last}",
        "firstName": c.first,
        "lastName": c.last,
        "email": c.email,
        "phone": c.phone,
        "city": c.city,
        "language": c.lang,
        "gender": c.gender,
        "birthday": c.birthday.isoformat(),
        "plan": rng.choice(("basic", "basic", "silver", "gold")),
    }
    consent = {"categoryPreferences": {"marketing": rng.random() < 0.6}}
    out: list[dict[str, Any]] = [
        {
            "type": "identify",
            "userId": c.user_id,
            "messageId": mid + "0",
            "timestamp": iso(t),
            "traits": traits,
            "context": {"channel": "other", "consent": consent},
        }
    ]
    for k in range(1, 2 + (rng.random() < 0.5)):
        t += timedelta(days=rng.uniform(0, 30))
        if t >= end:
            break
        if rng.random() < 0.5:
            event, channel = rng.choice((("Email Sent", "email"), ("SMS Sent", "sms")))
            props: dict[str, Any] = {"campaign": rng.choice(("spring", "yalda", "nowruz"))}
            out.append({"type": "track", "event": event, "userId": c.user_id, "properties": props,
                        "messageId": mid + str(k), "timestamp": iso(t),
                        "context": {"channel": channel}})  # fmt: skip
        else:
            title, path = rng.choice(cat.PAGES)
            out.append({"type": "page", "name": title, "userId": c.user_id,
                        "properties": {"path": path}, "messageId": mid + str(k),
                        "timestamp": iso(t), "context": {"channel": "web"}})  # fmt: skip
    return out


#: The last hours' carts and detractors (what journeys act on) for this many customers only:
#: at full scale they would leave tens of thousands of journeys running during the timings.
TODAY = 20_000


def story_chunk(start: int, stop: int, end: datetime) -> list[dict[str, Any]]:
    people = [make_customer(SEED, i) for i in range(start, stop)]
    assign_households(SEED, people)
    out: list[dict[str, Any]] = []
    for c in people:
        Life(SEED, c, end, out).run()
    for i in range(start // 4, stop // 4):
        visitor(SEED, i, end, out)
    if start < TODAY:
        today(SEED, people, end, out)
    out.sort(key=lambda m: m["timestamp"])
    return out


def drain(runtime: Runtime, limit_s: float) -> int:
    """Run due scheduler jobs and journey work until none is left (or ``limit_s`` passes)."""
    done, deadline = 0, time.monotonic() + limit_s
    while time.monotonic() < deadline:
        n = runtime.scheduler.run_due() + runtime.flows.runtime.run_due()
        done += n
        if n == 0:
            break
    return done


def answer(q: Any, rng: random.Random) -> Any:
    """A plausible answer to one question of the shipped templates."""
    kind = q.type
    if kind == "nps":
        return rng.choices(range(11), weights=(2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30))[0]
    if kind in ("csat", "rating"):
        return rng.choices(range(1, 6), weights=(6, 8, 16, 35, 35))[0]
    if kind == "ces":
        return rng.choices(range(1, 8), weights=(3, 4, 6, 10, 20, 30, 27))[0]
    if kind == "text":
        return rng.choice(("پیک دیر رسید", "همه چیز عالی بود", "قیمت ها گران است",
                           "Great service", "The app is slow", "پشتیبانی خوب بود"))  # fmt: skip
    if kind == "single":
        return q.choices[rng.randrange(len(q.choices))].id
    if kind == "multiple":
        return [q.choices[0].id]
    return None


def surveys(runtime: Runtime, ws: str, users: int, per_survey: int, end: datetime) -> int:
    """Invite ``per_survey`` story customers to each survey and answer about 60% of them."""
    from safar.identity import service as identity
    from safar.surveys import presets
    from safar.surveys import service as svc
    from safar.surveys.answers import current_step
    from safar.surveys.invitations import Opened, create_invitation, definition_of

    rng = random.Random("bench-pages:surveys")
    answered = 0
    with runtime.db.session() as s:
        made = [
            svc.create_survey(s, workspace_id=ws, data=presets.template(key))
            for key in ("nps", "csat")
        ]
        ids = [x.id for x in made]
    for survey_id in ids:
        for n0 in range(0, per_survey, 2_000):
            with runtime.db.session() as s:
                survey = svc.get_survey(s, workspace_id=ws, survey_id=survey_id)
                definition = definition_of(survey)
                for _ in range(n0, min(per_survey, n0 + 2_000)):
                    user = f"cus-{SEED}-{rng.randrange(users):05d}"
                    try:
                        pid = identity.lookup(s, workspace_id=ws, type_="user_id", value=user)
                    except NotFound:  # a customer whose story has not begun
                        continue
                    sent = end - timedelta(days=rng.uniform(0.5, 120))
                    channel = rng.choice(("email", "sms", "app"))
                    inv = create_invitation(s, survey=survey, channel=channel, now=sent,
                                            profile_id=pid, user_id=user,
                                            touchpoint=rng.choice(("delivery", "support", None)))  # fmt: skip
                    inv.status = "sent"
                    if rng.random() > 0.6:
                        continue
                    response, when, step = None, sent + timedelta(hours=rng.uniform(0.1, 30)), 0
                    while True:
                        shown = list(response.shown) if response else []
                        answers = dict(response.answers) if response else {}
                        qs = current_step(definition, answers, shown)
                        if not qs:
                            break
                        raw = {q.id: a for q in qs if (a := answer(q, rng)) is not None}
                        opened = Opened(inv, survey, definition, response)
                        res = svc.submit_step(s, opened=opened, raw=raw, step=step, now=when,
                                              tz="Asia/Tehran")  # fmt: skip
                        if res.errors or res.response is None or res.complete:
                            break
                        response, step = res.response, res.response.step
                    answered += 1
        log(f"survey {survey_id}: invitations and answers written ({answered:,} answered so far)")
    return answered


def segments(runtime: Runtime, ws: str, now: datetime) -> dict[str, int]:
    from safar.segments import service as seg
    from safar.segments.schemas import SegmentCreate

    counts: dict[str, int] = {}
    for spec in SEGMENTS:
        with runtime.db.session() as s:
            made = seg.create_segment(s, workspace_id=ws, data=SegmentCreate.model_validate(spec))
            seg.refresh(s, runtime.store, workspace_id=ws, segment_id=made.id, now=now)
            counts[spec["name"]] = made.member_count
        log(f"segment {spec['name']!r}: {counts[spec['name']]:,} members")
    return counts


def count(data_dir: Path, table: str) -> int:
    """Rows of an event-store table, read from the closed DuckDB file."""
    import duckdb

    path = Settings(data_dir=data_dir).resolved_duckdb_path
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(f"select count(*) from {table}").fetchone()
    return int(row[0]) if row else 0


def disk_usage(data_dir: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in sorted(data_dir.iterdir()):
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        out[p.name] = sum(f.stat().st_size for f in files)
    return out


def build(data_dir: Path, *, profiles: int, events: int) -> Built:
    """Fill ``data_dir`` (which must not hold a finished build) and return its figures."""
    built = Built(profiles_wanted=profiles, events_wanted=events)
    settings = Settings(data_dir=data_dir, text_analysis=True)
    runtime = Runtime(settings, ingest=False)
    now = datetime.now(UTC).replace(microsecond=0)
    end = now - LATEST_GAP
    built.anchor = now.isoformat()
    t0 = time.perf_counter()
    try:
        with runtime.db.session() as s:
            ws, _, _ = create_workspace(s, name="bench")
            create_user(s, email=ADMIN[0], password=ADMIN[1], role="admin")
            built.workspace_id = ws.id
        loader = Loader(runtime, ws.id, built)
        first = story_chunk(0, CHUNK, end)
        built.journeys = len(install_journeys(runtime, ws.id, first))
        # Story customers bring ~40 events each (visitors included), contacts CONTACT_EVENTS:
        # solve for how many of each give both targets.
        per_story = len(first) / CHUNK
        story = int((events - CONTACT_EVENTS * profiles) / (per_story - 1.25 * CONTACT_EVENTS))
        story = max(min(story, int(profiles / 1.25)), min(CHUNK, profiles))
        contacts = max(profiles - int(story * 1.25), 0)
        built.story_customers, built.contacts = story, contacts
        log(f"{story:,} story customers (~{per_story:.1f} events each), {contacts:,} contacts")
        chunk = first
        for start in range(0, story, CHUNK):
            if start:
                chunk = story_chunk(start, min(start + CHUNK, story), end)
            loader.add(chunk)
            if start % (CHUNK * 10) == 0:
                loader.progress(f"story customers {start:,}")
        for start in range(0, contacts, 10_000):
            msgs: list[dict[str, Any]] = []
            for i in range(story + start, story + min(start + 10_000, contacts)):
                msgs.extend(contact(i, end))
            loader.add(msgs)
            if start % 100_000 == 0:
                loader.progress(f"contacts {start:,}")
        loader.flush()
        built.seconds["events"] = time.perf_counter() - t0
        loader.progress("all events")
        t1 = time.perf_counter()
        built.survey_responses = surveys(runtime, ws.id, story, min(10_000, story // 2), end)
        drained = drain(runtime, 900)
        built.seconds["surveys"] = time.perf_counter() - t1
        log(f"surveys: {built.survey_responses:,} answered; {drained:,} jobs and journey steps run")
        t2 = time.perf_counter()
        built.segments = segments(runtime, ws.id, now)
        built.seconds["segments"] = time.perf_counter() - t2
        if runtime.text_worker is not None:
            runtime.text_worker.wait_idle(3_600)
        built.seconds["total"] = time.perf_counter() - t0
    finally:
        runtime.close()
    built.bytes_on_disk = disk_usage(data_dir)
    built.texts_analysed = count(data_dir, "text_analyses")
    built.done = True
    (data_dir / "build.json").write_text(json.dumps(asdict(built), indent=2, ensure_ascii=False))
    return built
