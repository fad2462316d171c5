"""The text domain's facade for other parts: what its analyses say, of a period or
of given events; the Listen page's counts, verbatims and topics; readers' corrections.

Analyses live in the event store, corrections in the state store (``repository``); pages and
other domains read them here.

**Corrections count.** Where a reader corrected a label, the Listen page counts, filters and
shows the corrected label (``Verbatim.sentiment``), and shows the model's beside it
(``Verbatim.model``): a CX manager's number should not keep a label somebody fixed. The
overview's ``label_counts`` stays the model's alone (what the model said, as the API
answers). The model's own rows in ``text_analyses`` are never changed: corrections are
training feedback (``feedback_export``) until a retrained model agrees.
"""

from __future__ import annotations

import csv
import io
import threading
import warnings
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from safar.errors import NotFound, ValidationFailed
from safar.events.store import EventStore
from safar.identity import snapshot
from safar.text import repository
from safar.text.models import TextFeedback
from safar.text.schemas import CORRECTABLE, TextSlice

__all__ = ["CORRECTABLE", "TextSlice"]


@dataclass(frozen=True, slots=True)
class LabelCounts:
    """How many analysed texts carried each sentiment and each emotion, of ``total``."""

    total: int = 0
    sentiment: Counter[str] = field(default_factory=Counter)
    emotion: Counter[str] = field(default_factory=Counter)


def label_counts(
    store: EventStore,
    *,
    workspace_id: str,
    since: datetime,
    until: datetime,
    channel: str | None = None,
) -> LabelCounts:
    """Sentiment and emotion counts of the texts customers sent in [since, until)."""
    sentiment: Counter[str] = Counter()
    emotion: Counter[str] = Counter()
    total = 0
    for s, e, n in repository.label_counts(
        store, workspace_id, since=since, until=until, channel=channel
    ):
        total += n
        if s:
            sentiment[s] += n
        if e:
            emotion[e] += n
    return LabelCounts(total, sentiment, emotion)


def analyses_of(
    store: EventStore, *, workspace_id: str, message_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The latest analysis of each of these events that was analysed, keyed by message id.

    Events without customer text, or not analysed yet, are simply absent; an analysis that
    failed carries its ``error`` and no labels.
    """
    return repository.analyses_for(store, workspace_id, list(dict.fromkeys(message_ids)))


# -- the Listen page ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ListenCounts:
    """Texts of a slice per local day and label (corrections counted): what the charts sum."""

    #: (day, sentiment, emotion, category) -> texts.
    cells: dict[tuple[date, str | None, str | None, str | None], int]

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def of(self, field: str) -> Counter[str]:
        """Texts per label of ``field`` (sentiment, emotion or category)."""
        at = ("sentiment", "emotion", "category").index(field) + 1
        out: Counter[str] = Counter()
        for key, n in self.cells.items():
            if key[at]:
                out[str(key[at])] += n
        return out

    def per_day(self, field: str) -> dict[date, Counter[str]]:
        """Texts per day and label of ``field``."""
        at = ("sentiment", "emotion", "category").index(field) + 1
        out: dict[date, Counter[str]] = {}
        for key, n in self.cells.items():
            if key[at]:
                out.setdefault(key[0], Counter())[str(key[at])] += n
        return out

    def split(self, field: str) -> dict[str, Counter[str]]:
        """The sentiment split of each label of ``field`` (e.g. per category)."""
        at = ("sentiment", "emotion", "category").index(field) + 1
        out: dict[str, Counter[str]] = {}
        for key, n in self.cells.items():
            if key[at] and key[1]:
                out.setdefault(str(key[at]), Counter())[str(key[1])] += n
        return out


@dataclass(frozen=True, slots=True)
class Verbatim:
    """One customer text with its event, its labels now and the model's, and its customer."""

    message_id: str
    at: datetime
    text: str
    channel: str
    source: str
    language: str | None
    #: The labels that count: a reader's correction where there is one, else the model's.
    sentiment: str | None
    emotion: str | None
    category: str | None
    #: What the model said, per field.
    model: dict[str, str | None]
    profile_id: str | None
    survey_id: str | None = None
    #: The survey's name, as Safar's surveys write it on their answers.
    survey_name: str | None = None

    @property
    def corrected(self) -> set[str]:
        """The fields whose label a reader changed."""
        return {f for f in CORRECTABLE if getattr(self, f) != self.model.get(f)}


@dataclass(frozen=True, slots=True)
class TopicSummary:
    """A theme of the slice's latest texts: its label, size, sentiment split and examples."""

    label: str
    language: str
    size: int
    sentiment: Counter[str]
    examples: list[Verbatim]


def corrections(session: Session, *, workspace_id: str) -> repository.Corrections:
    """The newest correction of each message and field of the workspace."""
    out: repository.Corrections = {}
    for row in repository.feedback(session).history(workspace_id):
        out.setdefault(row.field, {})[row.message_id] = row.new_label  # newer rows win
    return out


def listen_counts(session: Session, store: EventStore, slice_: TextSlice) -> ListenCounts:
    """Texts of the slice per local day and label, corrected labels counted."""
    fixed = corrections(session, workspace_id=slice_.workspace_id)
    if slice_.profile_ids is not None:
        snapshot.refresh_identity_map(session, store, workspace_id=slice_.workspace_id)
    rows = repository.listen_counts(store, slice_, fixed)
    return ListenCounts({(d, s, e, c): n for d, s, e, c, n in rows})


def verbatims(
    session: Session,
    store: EventStore,
    slice_: TextSlice,
    *,
    limit: int = 25,
    offset: int = 0,
    message_ids: Sequence[str] | None = None,
) -> list[Verbatim]:
    """The slice's texts, newest first, each with its customer's profile id (when known)."""
    fixed = corrections(session, workspace_id=slice_.workspace_id)
    snapshot.refresh_identity_map(session, store, workspace_id=slice_.workspace_id)
    rows = repository.verbatims(
        store, slice_, fixed, limit=limit, offset=offset, message_ids=message_ids
    )
    return [_verbatim(r) for r in rows]


def _verbatim(r: Mapping[str, Any]) -> Verbatim:
    survey = r.get("survey_id")
    return Verbatim(
        message_id=str(r["message_id"]),
        at=datetime.fromtimestamp(int(r["timestamp"]) / 1_000_000, tz=UTC),
        text=str(r["text"]),
        channel=str(r["channel"]),
        source=str(r["source"]),
        language=r["language"],
        sentiment=r["sentiment"],
        emotion=r["emotion"],
        category=r["category"],
        model={f: r[f"model_{f}"] for f in CORRECTABLE},
        profile_id=r["profile_id"] or None,
        survey_id=str(survey) if survey not in (None, "") else None,
        survey_name=str(r["survey_name"])[:200] if r.get("survey_name") else None,
    )


def themes(texts: Sequence[Verbatim], *, top: int = 6) -> list[TopicSummary]:
    """Themes of these texts (NMF per language, ``text.topics``; a language needs 20 texts),
    each with its sentiment split (corrections counted) and its three strongest examples.

    Pass the slice's latest texts (``verbatims(..., limit=N)``): themes of what customers say
    now, at a cost that does not grow with the range.
    """
    # The same texts give the same themes: the page asks again on every view of an unchanged
    # slice, and NMF is most of its time. Keyed by every field of every text (their repr).
    key = (top, repr(list(texts)))
    with _THEMES_LOCK:
        if key in _THEMES:
            _THEMES.move_to_end(key)
            return list(_THEMES[key])
    out = _themes(texts, top)
    with _THEMES_LOCK:
        _THEMES[key] = out
        while len(_THEMES) > 16:
            _THEMES.popitem(last=False)
    return list(out)


_THEMES: OrderedDict[tuple[int, str], list[TopicSummary]] = OrderedDict()
_THEMES_LOCK = threading.Lock()


def _themes(texts: Sequence[Verbatim], top: int) -> list[TopicSummary]:
    from safar.text.topics import discover_topics  # scikit-learn loads on first use

    said = [v for v in texts if v.text.strip()]
    with warnings.catch_warnings():
        # A handful of texts repeated many times leaves NMF little to factor: its numeric and
        # stop-word warnings say so; the themes it finds are still the best it has.
        warnings.simplefilter("ignore")
        found = discover_topics([v.text for v in said], n_topics=top)
    out = []
    for t in found[:top]:
        members = [said[i] for i in t.members]
        by_text = {v.text: v for v in members}
        split = Counter(str(v.sentiment) for v in members if v.sentiment)
        examples = [by_text[ex] for ex in t.examples if ex in by_text]
        out.append(TopicSummary(t.label, t.language, t.size, split, examples))
    return out


# -- corrections -------------------------------------------------------------------------------
def correct(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    message_id: str,
    labels: Mapping[str, str],
    user: str,
    now: datetime | None = None,
) -> list[TextFeedback]:
    """Store a reader's labels for one analysed text: one row per field whose label changes.

    A field or label outside ``CORRECTABLE`` is refused naming the field; a message without an
    analysis of its text is not found. Setting the label it already has stores nothing.
    """
    for name, label in labels.items():
        if name not in CORRECTABLE:
            raise ValidationFailed(f"{name[:40]}: not a label that can be corrected", field=name)
        if label not in CORRECTABLE[name]:
            raise ValidationFailed(
                f"{name}: {label[:40]!r} is not one of {', '.join(CORRECTABLE[name])}", field=name
            )
    found = repository.analyses_for(store, workspace_id, [message_id]).get(message_id)
    if found is None or found.get("error"):
        raise NotFound("message_id: no analysed text has this message id", field="message_id")
    fixed = corrections(session, workspace_id=workspace_id)
    model = {"sentiment": found["sentiment_label"], "emotion": found["emotion"],
             "category": found["category"]}  # fmt: skip
    stored = []
    for name, label in labels.items():
        current = fixed.get(name, {}).get(message_id, model[name])
        if label == current:
            continue
        row = TextFeedback(
            workspace_id=workspace_id, message_id=message_id, field=name, old_label=current,
            new_label=label, user=user[:200], at=now or datetime.now(UTC),
        )  # fmt: skip
        stored.append(repository.feedback(session).add(row))
    return stored


def feedback_export(
    session: Session, store: EventStore, *, workspace_id: str
) -> list[dict[str, Any]]:
    """Every corrected text of the workspace for training: its text and language, the newest
    label a reader set per field (None where nobody corrected it, so training learns only what
    people said), and the corrections in order (field, old and new label, user, time)."""
    history = repository.feedback(session).history(workspace_id)
    ids = list(dict.fromkeys(r.message_id for r in history))
    texts = {v.message_id: v for v in _texts_of(session, store, workspace_id, ids)}
    out: dict[str, dict[str, Any]] = {}
    for row in history:
        v = texts.get(row.message_id)
        rec = out.setdefault(row.message_id, {
            "message_id": row.message_id, "text": v.text if v else None,
            "language": v.language if v else None,
            **{f: None for f in CORRECTABLE}, "corrections": [],
        })  # fmt: skip
        rec[row.field] = row.new_label
        rec["corrections"].append(
            {"field": row.field, "old_label": row.old_label, "new_label": row.new_label,
             "user": row.user, "at": row.at.isoformat()}
        )  # fmt: skip
    return list(out.values())


def _texts_of(
    session: Session, store: EventStore, workspace_id: str, ids: Sequence[str]
) -> list[Verbatim]:
    if not ids:
        return []
    # Every time an event may carry (ClickHouse's DateTime64 ends in 2299).
    every = TextSlice(
        workspace_id, datetime(1970, 1, 1, tzinfo=UTC), datetime(2299, 1, 1, tzinfo=UTC)
    )
    return verbatims(session, store, every, limit=len(ids), message_ids=ids)


def feedback_csv(rows: list[dict[str, Any]]) -> str:
    """Corrections as the labelled CSV ``safar text train`` reads (``text`` + label columns,
    blank where nobody corrected that field)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", *CORRECTABLE])
    for r in rows:
        if r["text"]:
            writer.writerow([r["text"], *(r[f] or "" for f in CORRECTABLE)])
    return out.getvalue()
