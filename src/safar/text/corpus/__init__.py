"""Safar's own labelled customer-feedback corpus, composed from hand-written fragments.

The fragments in ``en.py`` and ``fa.py`` were written for this project and ship under its
Apache-2.0 licence, so models trained on them can ship too. ``build_corpus`` combines them the
way customers write: an emotional opener, a concrete problem, a threat to leave, a request; a
compliment followed by "but"; a short question. Each combination carries all four labels.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from types import ModuleType

from safar.text.corpus import en, fa

LANGUAGES: dict[str, ModuleType] = {"en": en, "fa": fa}
NEGATIVE_EMOTIONS = ("anger", "sadness", "disgust", "fear", "surprise")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    language: str
    sentiment: str
    emotion: str
    intent: str
    category: str


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _end(rng: random.Random, text: str, marks: tuple[str, ...] = ("", ".", "!", "!!")) -> str:
    return text + rng.choice(marks)


def _vary(rng: random.Random, text: str, lang: str) -> str:
    """Typing habits: lower case, no punctuation, missing ZWNJ, repeated letters."""
    roll = rng.random()
    if lang == "en" and roll < 0.3:
        text = text.lower()
    elif lang == "fa" and roll < 0.3:
        text = text.replace("\u200c", rng.choice(["", " "]))
    if rng.random() < 0.15:
        text = text.rstrip(".!?")
    return text


def _compose(rng: random.Random, lang: str) -> Example:
    m = LANGUAGES[lang]
    cats = list(m.PROBLEMS)
    cat = rng.choice(cats)
    kind = rng.choices(
        [
            "complaint",
            "churn",
            "praise",
            "mixed",
            "question",
            "worried_question",
            "request",
            "neutral",
            "short_pos",
            "short_neg",
            "surprise_praise",
        ],
        weights=[30, 8, 22, 8, 10, 3, 8, 5, 4, 4, 2],
    )[0]
    prefix = rng.choice(m.PREFIXES)
    if kind in ("complaint", "churn"):
        emotion = rng.choice([*NEGATIVE_EMOTIONS[:3], "anger", "other", "other"])
        if cat == "payment" and rng.random() < 0.4:
            emotion = "fear"
        opener = rng.choice(m.EMOTION[emotion]) if emotion != "other" else ""
        problem = _end(rng, rng.choice(m.PROBLEMS[cat]))
        if rng.random() < 0.25:
            problem = _join(problem, _end(rng, rng.choice(m.PROBLEMS[cat])))
        body = _join(opener, problem) if rng.random() < 0.6 else _join(problem, opener)
        intent = "complaint"
        if kind == "churn":
            body = _join(body, rng.choice(m.CHURN))
            intent = "churn"
        elif rng.random() < 0.25:
            body = _join(body, _end(rng, rng.choice(m.REQUESTS[cat])))
        return Example(_join(prefix, body), lang, "negative", emotion, intent, cat)
    if kind == "praise":
        text = _end(rng, rng.choice(m.PRAISE[cat]))
        if rng.random() < 0.3:
            other = rng.choice(cats)
            text = _join(text, _end(rng, rng.choice(m.PRAISE[other])))
        if rng.random() < 0.5:
            text = _join(text, rng.choice(m.EMOTION["joy"]))
        return Example(_join(prefix, text), lang, "positive", "joy", "praise", cat)
    if kind == "review":
        sentiment = rng.choice(["positive", "negative"])
        pool = m.REVIEWS[sentiment]
        rcat = rng.choice(list(pool))
        text = rng.choice(pool[rcat])
        if rng.random() < 0.4:
            other = rng.choice(list(pool))
            text = _join(
                text,
                rng.choice(["و", "،"] if lang == "fa" else ["and", ","]),
                rng.choice(pool[other]),
            )
        if sentiment == "positive":
            return Example(text, lang, "positive", "joy", "praise", rcat)
        emotion = rng.choice(["sadness", "anger", "other"])
        return Example(text, lang, "negative", emotion, "complaint", rcat)
    if kind == "surprise_praise":
        text = _join(rng.choice(m.EMOTION["surprise"]), _end(rng, rng.choice(m.PRAISE[cat])))
        return Example(text, lang, "positive", "surprise", "praise", cat)
    if kind == "mixed":
        good = rng.choice([c for c in cats if c != cat])
        text = _join(rng.choice(m.PRAISE[good]), m.BUT, _end(rng, rng.choice(m.PROBLEMS[cat])))
        return Example(text, lang, "negative", rng.choice(["sadness", "other"]), "complaint", cat)
    if kind == "question":
        text = _join(rng.choice(m.QUESTION_PREFIXES), rng.choice(m.QUESTIONS[cat])) + "?"
        return Example(text, lang, "neutral", "other", "question", cat)
    if kind == "worried_question":
        text = _join(rng.choice(m.EMOTION["fear"]), rng.choice(m.QUESTIONS[cat]) + "?")
        return Example(text, lang, "negative", "fear", "question", cat)
    if kind == "request":
        text = _join(prefix, _end(rng, rng.choice(m.REQUESTS[cat]), ("", ".")))
        if rng.random() < 0.3:
            text = _join(text, "Thanks." if lang == "en" else "ممنون.")
        return Example(text, lang, "neutral", "other", "request", cat)
    if kind == "neutral":
        return Example(rng.choice(m.NEUTRAL_STATEMENTS), lang, "neutral", "other", "other", "other")
    if kind == "short_pos":
        return Example(rng.choice(m.OTHER_POSITIVE), lang, "positive", "joy", "praise", "other")
    text = rng.choice(m.OTHER_NEGATIVE)
    return Example(text, lang, "negative", rng.choice(["sadness", "anger"]), "complaint", "other")


def build_corpus(per_language: int = 6000, *, seed: int = 13) -> list[Example]:
    """Compose ``per_language`` labelled examples for each language, deterministically."""
    rng = random.Random(seed)
    out: list[Example] = []
    seen: set[str] = set()
    for lang in LANGUAGES:
        made = 0
        attempts = 0
        while made < per_language and attempts < per_language * 20:
            attempts += 1
            ex = _compose(rng, lang)
            ex = replace(ex, text=_vary(rng, ex.text, lang))
            if ex.text in seen:
                continue
            seen.add(ex.text)
            out.append(ex)
            made += 1
    return out
