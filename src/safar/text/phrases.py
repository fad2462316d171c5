"""Key phrases and the "actionable" flag.

Key phrases are the longest runs of content words between stopwords and punctuation (the idea
behind RAKE), ranked by how many content words they hold and how rare those words are in
everyday feedback. Small stopword lists are kept here so the phrases stay readable in both
languages without another dependency.
"""

from __future__ import annotations

import re


def _words(text: str) -> list[str]:
    return text.split()


STOP_EN = frozenset(
    _words(
        """a about above after again all am an and any are as at be been before being below
    between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your yours hi hello hey dear team please thanks thank um ok okay also still
    again really so just got get im i'm it's dont don't cant can't didn't would've u ur pls
    plz lol via amp today yesterday i'll i've i'd we're we've they're you're that's there's
    what's isn't wasn't aren't weren't doesn't haven't hasn't won't wouldn't couldn't
    shouldn't let's"""
    )
)
STOP_FA = frozenset(
    _words(
        """و در به از که این آن با برای را تا هم یا اما ولی اگر چون پس نه هر چه چی چرا کی کجا
    یک یه من تو او ما شما آنها اونا ایشون خودم خودت خیلی بسیار واقعا اصلا دیگه دیگر هنوز
    فقط همه همین همون اون این ها است هست بود بودن شد شده میشه نمیشه کرد کردم کردن کنید کنه
    میکنه داره دارید داشت دارم نیست نبود باشه باید سلام ممنون مرسی لطفا ببخشید وقت بخیر با
    رو روی بر زیر بین مثل الان امروز دیروز راستش خب آره نه هم‌ ام ای"""
    )
)
_SPLIT = re.compile(r"[.,;:!?()\[\]{}\"'«»…\-–—/\\|*#@+=<>~`^_\n\r\t]+")
_WORD = re.compile(r"[\w\u200c]+", re.UNICODE)
_DIGITS = re.compile(r"^\d+$")

# Cues of a concrete, fixable problem: amounts, counts, times, and failure verbs.
_CONCRETE = re.compile(
    r"\d|never|missing|wrong|twice|charged|refund|broke|crash|cannot|can't|not work|late|"
    r"cold|raw|lost|declined|error|hung up|no reply|"
    r"نیومد|نرسید|دیر|سرد|خام|اشتباه|دو بار|خراب|نمیتونم|کار نمیکنه|گم|رد شد|خطا|برنگشته|"
    r"نیومده|جواب نمیده|قطع کرد|کم شد|هنگ"
)


def key_phrases(text: str, language: str, *, limit: int = 5) -> list[str]:
    """Return up to ``limit`` key phrases of a normalised text, best first."""
    stop = STOP_FA if language == "fa" else STOP_EN
    candidates: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    position = 0
    for chunk in _SPLIT.split(text):
        run: list[str] = []
        for word in [*_WORD.findall(chunk), ""]:
            if word and word not in stop and not _DIGITS.match(word) and len(word) > 1:
                run.append(word)
                continue
            if run:
                phrase = " ".join(run[:4])
                if phrase not in seen:
                    seen.add(phrase)
                    score = len(run[:4]) + sum(min(len(w), 8) for w in run[:4]) / 10
                    candidates.append((score, position, phrase))
                    position += 1
                run = []
    candidates.sort(key=lambda c: (-c[0], c[1]))
    return [p for _, _, p in candidates[:limit]]


def is_actionable(text: str, *, sentiment: str, intent: str, category: str) -> bool:
    """A concrete problem or request someone can act on (not just "terrible")."""
    if intent == "churn" or (intent in ("complaint", "request") and category != "other"):
        return True
    if sentiment == "negative" and _CONCRETE.search(text) is not None:
        return True
    return intent == "request"
