"""Readers for the real public data sets used to evaluate and locally train text models.

Splits are deterministic and share nothing between train and test: SnappFood is split by
restaurant (``vendor_code``), the others by a hash of the normalised text, so duplicates of
one text never sit on both sides. Licences (see MANIFEST.md of the shared data) decide what
may train a shipped model: only BANKING77 (CC BY 4.0) and Bitext (CDLA-Sharing-1.0).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from safar.text.normalize import normalize

#: Restaurants held out for SnappFood evaluation (about a third of the comments).
SNAPPFOOD_TEST_SHARE = 0.3
ARMAN = {
    "ANGRY": "anger",
    "FEAR": "fear",
    "HAPPY": "joy",
    "HATE": "disgust",
    "OTHER": "other",
    "SAD": "sadness",
    "SURPRISE": "surprise",
}


@dataclass(frozen=True, slots=True)
class LabelledSet:
    """A split of one data set for one task."""

    name: str
    task: str
    language: str
    metric: str
    licence: str
    shippable: bool
    train: tuple[list[str], list[str]]
    test: tuple[list[str], list[str]]


def _in_test(text: str, share: float = 0.2) -> bool:
    h = int(hashlib.sha1(normalize(text).encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < share


def _split(
    rows: list[tuple[str, str]], share: float = 0.2
) -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    tr: tuple[list[str], list[str]] = ([], [])
    te: tuple[list[str], list[str]] = ([], [])
    for text, label in rows:
        side = te if _in_test(text, share) else tr
        side[0].append(text)
        side[1].append(label)
    return tr, te


def snappfood(root: Path) -> LabelledSet:
    """Binary sentiment (HAPPY/SAD), restaurants split between train and test."""
    by_vendor: dict[str, list[tuple[str, str]]] = {}
    with gzip.open(root / "persian" / "snappfood_comments.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            label = {"HAPPY": "positive", "SAD": "negative"}.get(row["feeling"])
            text = (row["comment_text"] or "").strip()
            if label and text:
                by_vendor.setdefault(row["vendor_code"], []).append((text, label))
    # Largest vendors first, then fill the test side up to its share, deterministically.
    vendors = sorted(by_vendor, key=lambda v: hashlib.sha1(v.encode()).hexdigest())
    total = sum(len(v) for v in by_vendor.values())
    test_vendors: set[str] = set()
    count = 0
    for v in vendors:
        if count >= total * SNAPPFOOD_TEST_SHARE:
            break
        test_vendors.add(v)
        count += len(by_vendor[v])
    tr: tuple[list[str], list[str]] = ([], [])
    te: tuple[list[str], list[str]] = ([], [])
    for v, rows in by_vendor.items():
        side = te if v in test_vendors else tr
        for text, label in rows:
            side[0].append(text)
            side[1].append(label)
    return LabelledSet(
        "snappfood", "sentiment", "fa", "macro_f1", "no licence stated", False, tr, te
    )


def airline(root: Path) -> LabelledSet:
    with open(root / "english" / "twitter_airline_sentiment.csv", encoding="utf-8") as f:
        rows = [(r["text"], r["airline_sentiment"]) for r in csv.DictReader(f)]
    tr, te = _split(rows)
    return LabelledSet("airline", "sentiment", "en", "macro_f1", "CC BY-NC-SA 4.0", False, tr, te)


def armanemo(root: Path) -> LabelledSet:
    rows: list[tuple[str, str]] = []
    with open(root / "persian" / "armanemo_train.tsv", encoding="utf-8", newline="") as f:
        for rec in csv.reader(f, delimiter="\t"):
            if len(rec) >= 2 and rec[-1].strip() in ARMAN:
                rows.append((rec[0], ARMAN[rec[-1].strip()]))
    tr, te = _split(rows)
    return LabelledSet("armanemo", "emotion", "fa", "macro_f1", "CC BY-NC-SA 4.0", False, tr, te)


def banking77(root: Path) -> LabelledSet:
    with open(root / "english" / "banking77_train.csv", encoding="utf-8") as f:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(f)]
    tr, te = _split(rows)
    return LabelledSet("banking77", "banking77", "en", "accuracy", "CC BY 4.0", True, tr, te)


#: Bitext intents mapped onto Safar's default intent and CX category taxonomies.
BITEXT_MAP: dict[str, tuple[str, str, str]] = {
    # intent: (sentiment, intent, category)
    "complaint": ("negative", "complaint", "service"),
    "payment_issue": ("negative", "complaint", "payment"),
    "registration_problems": ("negative", "complaint", "app"),
    "cancel_order": ("", "churn", "other"),
    "delete_account": ("", "churn", "app"),
    "delivery_period": ("neutral", "question", "delivery"),
    "track_order": ("neutral", "question", "delivery"),
    "delivery_options": ("neutral", "question", "delivery"),
    "check_payment_methods": ("neutral", "question", "payment"),
    "check_refund_policy": ("neutral", "question", "payment"),
    "check_cancellation_fee": ("neutral", "question", "price"),
    "track_refund": ("neutral", "question", "payment"),
    "get_refund": ("neutral", "request", "payment"),
    "check_invoice": ("neutral", "request", "payment"),
    "get_invoice": ("neutral", "request", "payment"),
    "edit_account": ("neutral", "request", "app"),
    "create_account": ("neutral", "request", "app"),
    "switch_account": ("neutral", "request", "app"),
    "recover_password": ("neutral", "request", "app"),
    "contact_human_agent": ("neutral", "request", "service"),
    "contact_customer_service": ("neutral", "request", "service"),
    "change_shipping_address": ("neutral", "request", "delivery"),
    "set_up_shipping_address": ("neutral", "request", "delivery"),
    "place_order": ("neutral", "request", "other"),
    "change_order": ("neutral", "request", "other"),
    "newsletter_subscription": ("neutral", "request", "other"),
    "review": ("neutral", "request", "service"),
}


def bitext(root: Path) -> list[tuple[str, str, str, str]]:
    """(text, sentiment, intent, category) rows; placeholders like {{Order Number}} dropped."""
    out: list[tuple[str, str, str, str]] = []
    with open(root / "english" / "bitext_customer_support_sample.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            mapped = BITEXT_MAP.get(r["intent"])
            text = r["instruction"].replace("{{", "").replace("}}", "").strip()
            if mapped and text:
                out.append((text, *mapped))
    return out


def banking77_labels(root: Path) -> list[str]:
    labels: list[str] = json.loads((root / "english" / "banking77_categories.json").read_text())
    return labels


EVAL_SETS = {
    "snappfood": snappfood,
    "airline": airline,
    "armanemo": armanemo,
    "banking77": banking77,
}
